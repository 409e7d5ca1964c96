/**
 * Browser sign-in for private tunnels: what the proxy's gate asks (is this
 * Cookie a valid sign-in?), the page a browser gets instead of the one-line
 * 407, and the relay's sign-in links. The pages under /.petit/ are in
 * petit-pages.ts, their connection handling in serve.ts.
 * @module
 */
import { inList, peerAddress } from "../../../http/client-address.ts";
import { F } from "../http1/fields.ts";
import { lazyField } from "../read-request.ts";
import type { ProxyOptions, ProxyRequest } from "../types.ts";
import type { Refusal } from "../visitor-auth.ts";
import { CLEAR_COOKIE, COOKIE_LIFETIME_S, COOKIE_NAME, hasValidCookie, makeCookieValue, setCookieHeader } from "./cookie.ts";
import { SignInLinks, type NonceClaim } from "./links.ts";
import { safeNextPath } from "./next-path.ts";
import { needsHttpsPage, PAGE_HEADERS, signInPage } from "./pages.ts";

/** Settings of browser sign-in. */
export interface SignInOptions {
  /** The relay's sign-in secret (server/sign-in.secret; with a store, every relay's): the key of every cookie's and link's MAC. */
  secret: string;
  /** With a store: spends a link's nonce for every relay (links.ts). */
  claimNonce?: NonceClaim;
  /** Seconds a sign-in lasts (default COOKIE_LIFETIME_S). */
  lifetimeS?: number;
  /** Milliseconds since the epoch (tests move it). */
  now?: () => number;
}

/**
 * The challenge of a 401 sign-in page: the "Cookie" scheme of
 * draft-broyer-http-cookie-auth, naming the form and the cookie. Browsers
 * ignore schemes they do not know, so no password dialog opens.
 */
const CHALLENGE = `Cookie realm="petit", form-action="/.petit/sign-in", cookie-name="${COOKIE_NAME}"`;

/** Browser sign-in of one relay. */
export class SignIn {
  readonly links: SignInLinks;
  readonly #secret: string;
  readonly lifetimeS: number;
  readonly #now: () => number;

  constructor(options: SignInOptions) {
    this.#secret = options.secret;
    this.links = new SignInLinks(options.secret, options.claimNonce);
    this.lifetimeS = options.lifetimeS ?? COOKIE_LIFETIME_S;
    this.#now = options.now ?? Date.now;
  }

  /** Tells whether `req`'s Cookie signs its browser in to client `clientId`, whose access token is `token` (the gate's CookieCheck). */
  readonly verify = (req: ProxyRequest, clientId: number, token: string): boolean => {
    const cookie = lazyField(req, F.COOKIE, "; ");
    return cookie !== undefined && hasValidCookie(this.#secret, cookie, clientId, token, Math.floor(this.#now() / 1000));
  };

  /** Returns the Set-Cookie value that signs a browser in to client `clientId` with access token `token`. */
  cookieFor(clientId: number, token: string): string {
    return setCookieHeader(makeCookieValue(this.#secret, clientId, token, Math.floor(this.#now() / 1000), this.lifetimeS), this.lifetimeS);
  }

  /** Milliseconds since the epoch, by this sign-in's clock. */
  now(): number {
    return this.#now();
  }

  /**
   * Turns the gate's 407 for `req` into the sign-in page (401, HTML) when a
   * person's browser asked for a page: GET or HEAD, accepting text/html.
   * Other requests (API callers, scripts, fetch()) keep the one-line 407.
   */
  browserRefusal(req: ProxyRequest, refusal: Refusal, options: ProxyOptions): Refusal {
    if ((req.method !== "GET" && req.method !== "HEAD") || !lazyField(req, F.ACCEPT)?.includes("text/html")) return refusal;
    const host = String(req.headers.host ?? "");
    const cookie = lazyField(req, F.COOKIE, "; ");
    const stale = cookie !== undefined && cookie.includes(`${COOKIE_NAME}=`);
    const html = isSecure(req, options)
      ? signInPage({ host, next: safeNextPath(req.url), error: stale ? "Your sign-in has ended (it expired, or the access token changed). Sign in again." : undefined })
      : needsHttpsPage(host);
    return {
      status: 401, reason: refusal.reason, html, omitBody: req.method === "HEAD",
      headers: { ...PAGE_HEADERS, "www-authenticate": CHALLENGE, ...(stale ? { "set-cookie": CLEAR_COOKIE } : {}) },
    };
  }
}

/**
 * Tells whether the browser reached the relay over HTTPS: the proxy serves
 * TLS itself, or a trusted load balancer in front says it did
 * (X-Forwarded-Proto: https). Secure and __Host- cookies need it.
 */
export function isSecure(req: ProxyRequest, options: ProxyOptions): boolean {
  if (options.tls) return true;
  if (!inList(options.trustedProxies, peerAddress(req.socket))) return false;
  const proto = req.headers["x-forwarded-proto"];
  // The balancer nearest to us appended last: its word is the last value.
  return typeof proto === "string" && proto.split(",").at(-1)!.trim().toLowerCase() === "https";
}
