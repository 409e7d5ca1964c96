/**
 * The browser sign-in cookie: `__Host-petit=1.<expiry>.<mac>`, where mac is
 * HMAC-SHA256 under the relay's sign-in secret over the client's id, the
 * expiry and the client's current access token. Nothing is stored per
 * cookie: rotating the token (or revoking the client, whose id is never
 * reused) makes every cookie of that client fail at once, and replacing the
 * relay's secret ends every cookie of every client.
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** The cookie's name. `__Host-`: the browser keeps it for this exact host, Secure, Path=/, no Domain (RFC 6265bis §4.1.3.2). */
export const COOKIE_NAME = "__Host-petit";
/** How long a sign-in lasts, in seconds: a working day. */
export const COOKIE_LIFETIME_S = 12 * 60 * 60;
/** Version of the cookie's format, first in its value. */
const VERSION = "1";
/** Base64url of a SHA-256 MAC: 43 characters. */
const MAC_CHARS = 43;

/** Returns the MAC of a cookie of client `clientId` expiring at `expiry` (Unix seconds), for access token `token`. */
function mac(secret: string, clientId: number, expiry: number, token: string): string {
  // NUL-separated: none of the parts can hold a NUL, so no two different triples hash the same text.
  return createHmac("sha256", secret).update(`petit-sign-in\0${VERSION}\0${clientId}\0${expiry}\0${token}`).digest("base64url");
}

/**
 * Returns the cookie's value for client `clientId` with access token `token`, expiring `lifetimeS` after `nowS`.
 * @example makeCookieValue("s3cret", 1001, "TOKEN", 1_700_000_000) // "1.1700043200.Xy…"
 */
export function makeCookieValue(secret: string, clientId: number, token: string, nowS: number, lifetimeS = COOKIE_LIFETIME_S): string {
  const expiry = nowS + lifetimeS;
  return `${VERSION}.${expiry}.${mac(secret, clientId, expiry, token)}`;
}

/** Returns the Set-Cookie value that signs a browser in with `value` for `lifetimeS` seconds. */
export function setCookieHeader(value: string, lifetimeS = COOKIE_LIFETIME_S): string {
  return `${COOKIE_NAME}=${value}; Path=/; Max-Age=${lifetimeS}; Secure; HttpOnly; SameSite=Lax`;
}

/** The Set-Cookie value that signs a browser out. */
export const CLEAR_COOKIE = `${COOKIE_NAME}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`;

/**
 * Tells whether `value` (the visitor's text) is a cookie this relay made for
 * client `clientId` with its current `token`, not expired at `nowS`.
 * Parsed anchored and whole: version, digits, then exactly one MAC.
 */
export function verifyCookieValue(secret: string, value: string, clientId: number, token: string, nowS: number): boolean {
  const first = value.indexOf(".");
  const second = value.indexOf(".", first + 1);
  if (first !== VERSION.length || value.slice(0, first) !== VERSION || second < 0) return false;
  const digits = value.slice(first + 1, second);
  if (!/^[1-9]\d{0,11}$/.test(digits)) return false;
  const expiry = Number(digits);
  if (expiry <= nowS) return false;
  const given = value.slice(second + 1);
  if (given.length !== MAC_CHARS) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(mac(secret, clientId, expiry, token)));
}

/**
 * Returns the values of petit's cookie in a Cookie header (the browser's
 * text, `name=value` pairs joined by "; ", RFC 6265 §5.4); usually none or one.
 */
export function petitCookies(header: string): string[] {
  const found: string[] = [];
  let at = header.indexOf(COOKIE_NAME);
  while (at >= 0) {
    const start = header.lastIndexOf(";", at) + 1;
    const end = header.indexOf(";", at);
    const pair = header.slice(start, end < 0 ? undefined : end).trim();
    if (pair.startsWith(`${COOKIE_NAME}=`)) found.push(pair.slice(COOKIE_NAME.length + 1).trim());
    at = end < 0 ? -1 : header.indexOf(COOKIE_NAME, end);
  }
  return found;
}

/** Returns the Cookie header without petit's cookie; "" when nothing else is left. Other cookies keep their order and text. */
export function withoutPetitCookie(header: string): string {
  return header.split(";").map((pair) => pair.trim()).filter((pair) => pair !== "" && !pair.startsWith(`${COOKIE_NAME}=`)).join("; ");
}

/** Tells whether a Cookie header holds a valid sign-in of client `clientId` (see verifyCookieValue). */
export function hasValidCookie(secret: string, header: string, clientId: number, token: string, nowS: number): boolean {
  if (!header.includes(COOKIE_NAME)) return false;
  for (const value of petitCookies(header)) if (verifyCookieValue(secret, value, clientId, token, nowS)) return true;
  return false;
}
