/**
 * Who may use a tunnel: visitors present the client's access token, from an
 * allowed source network, unless the client was made public.
 * @module
 */
import type { IncomingHttpHeaders } from "node:http";
import { BlockList, isIPv6 } from "node:net";
import { safeEqual } from "../../secrets.ts";
import { RateLimiter } from "../rate-limit.ts";
import type { Access } from "../registry/records.ts";
import type { ProxyRequest } from "./types.ts";

/** Header a visitor may use instead of Proxy-Authorization. */
export const TOKEN_HEADER = "x-petit-token";

/** Why a visitor is refused: HTTP status and a one-line reason. */
export interface Refusal {
  status: number;
  reason: string;
  headers?: Record<string, string>;
  /** An HTML page to answer with instead of the one line (a browser's sign-in page); `omitBody` for a HEAD. */
  html?: string;
  omitBody?: boolean;
}

/** Tells whether `req` carries a cookie that signs its browser in to client `clientId`, whose access token is `token` (sign-in/). */
export type CookieCheck = (req: ProxyRequest, clientId: number, token: string) => boolean;

/** Returns the token a visitor presented: `Proxy-Authorization: Bearer T`, `Basic` with T as password, or X-Petit-Token. */
export function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const proxy = headers["proxy-authorization"];
  if (typeof proxy === "string") {
    const [scheme, value = ""] = proxy.trim().split(/\s+/, 2);
    if (/^bearer$/i.test(scheme)) return value;
    if (/^basic$/i.test(scheme)) return Buffer.from(value, "base64").toString("utf8").split(":").slice(1).join(":");
  }
  const alt = headers[TOKEN_HEADER];
  return typeof alt === "string" ? alt.trim() : undefined;
}

/** Parses CIDR strings ("10.0.0.0/8", "::1/128", or a bare address) into a BlockList; throws naming a bad one. */
export function parseNetworks(cidrs: string[]): BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const cidr of cidrs) {
    try {
      // Strict form first: Number("") is 0, so a loose split would read "10.0.0.0/" as 0.0.0.0/0, every address.
      const match = /^([0-9a-fA-F.:]+)(?:\/(\d{1,3}))?$/.exec(cidr);
      if (!match) throw new Error(`expected ADDRESS or ADDRESS/BITS, got "${cidr}"`);
      const [, address, bits] = match;
      const type = isIPv6(address) ? "ipv6" : "ipv4";
      list.addSubnet(address, bits === undefined ? (type === "ipv6" ? 128 : 32) : Number(bits), type);
    } catch (error) {
      throw new Error(`"${cidr}" is not a network in CIDR form such as "10.0.0.0/8" or "2001:db8::/32"`, { cause: error });
    }
  }
  return list;
}

/** Checks visitors against the relay's and each client's rules; counts failures per source. */
export class VisitorGate {
  readonly #failures: RateLimiter;
  readonly #perClient = new Map<string, BlockList | undefined>();

  readonly #cookie: CookieCheck | undefined;

  /** `failuresPerMinute` from one source before 429 (default 30); `cookie`: browsers signed in by cookie pass too. */
  constructor(private readonly relayNetworks: BlockList | undefined, options: { failuresPerMinute?: number; cookie?: CookieCheck } = {}) {
    // RateLimiter blocks once a key has more than `limit` events: a limit one lower refuses a source
    // as soon as it has failed `failuresPerMinute` times, not one failure later.
    this.#failures = new RateLimiter((options.failuresPerMinute ?? 30) - 1, 60_000);
    this.#cookie = options.cookie;
  }

  /**
   * Returns why the visitor at `source` sending `req` may not use client
   * `clientId`'s tunnel with `access`, or undefined when it may: its token,
   * or (without one) a sign-in cookie for that client.
   */
  check(access: Access, req: ProxyRequest, source: string, clientId = 0): Refusal | undefined {
    const address = source.startsWith("::ffff:") ? source.slice(7) : source;
    const denied = this.sourceRefusal(access, address);
    if (denied) return denied;
    if (access.public) return undefined;
    const locked = this.lockout(address);
    if (locked) return locked;
    const token = presentedToken(req.headers);
    if (token !== undefined && safeEqual(token, access.token)) return undefined;
    if (token === undefined && this.#cookie?.(req, clientId, access.token)) return undefined;
    this.#failures.hit(address);
    return {
      status: 407,
      reason: token === undefined
        ? "this tunnel needs its access token: send \"Proxy-Authorization: Bearer <token>\" or \"X-Petit-Token: <token>\""
        : "wrong access token for this tunnel",
      headers: { "proxy-authenticate": 'Bearer realm="petit"' },
    };
  }

  /** Returns the 403 when the relay's or the client's allow_from leaves `source` out, else undefined. */
  sourceRefusal(access: Access, source: string): Refusal | undefined {
    const address = source.startsWith("::ffff:") ? source.slice(7) : source;
    if (allowed(this.relayNetworks, address) && allowed(this.#clientNetworks(access), address)) return undefined;
    return { status: 403, reason: `source address ${address} is not allowed to use this tunnel` };
  }

  /** Returns the 429 when `source` has failed too often lately, else undefined. */
  lockout(source: string): Refusal | undefined {
    const address = source.startsWith("::ffff:") ? source.slice(7) : source;
    if (!this.#failures.blocked(address)) return undefined;
    return {
      status: 429, reason: "too many failed access attempts from this address; wait and retry",
      headers: { "retry-after": String(this.#failures.retryAfter(address)) },
    };
  }

  /** Counts a failed attempt of `source` that did not come through check() (a wrong token typed into the sign-in page). */
  countFailure(source: string): void {
    this.#failures.hit(source.startsWith("::ffff:") ? source.slice(7) : source);
  }

  #clientNetworks(access: Access): BlockList | undefined {
    // Most tunnels allow every source: no key to build for them on every request.
    if (access.allow_from.length === 0) return undefined;
    const key = access.allow_from.join(",");
    if (!this.#perClient.has(key)) {
      let list: BlockList | undefined;
      try {
        list = parseNetworks(access.allow_from);
      } catch {
        // A rule that cannot be read (registry.json edited by hand) lets nobody in; throwing here would end the relay.
        list = new BlockList();
      }
      this.#perClient.set(key, list);
    }
    return this.#perClient.get(key);
  }
}

function allowed(list: BlockList | undefined, address: string): boolean {
  return !list || list.check(address, isIPv6(address) ? "ipv6" : "ipv4");
}
