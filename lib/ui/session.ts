/**
 * Browser sessions for the web console and the relay dashboard. The CLI,
 * holding the control secret, asks the daemon for a one-time login code; the
 * login URL trades it for an HttpOnly, SameSite=Strict session cookie. Every
 * state-changing call must also carry the session's CSRF token in a header,
 * matching the CSRF cookie (double submit) and the session it belongs to.
 * Everything lives in memory: a daemon restart signs everyone out.
 *
 * Browsers send 127.0.0.1's cookies to every port of it, so the cookies are
 * named for the daemon (its port) and limited to UI_PATH: a web app on
 * another port sees them only if the browser opens a page of it under /ui.
 * The CSRF check never depends on an Origin header, which a local program
 * simply leaves out.
 * @module
 */
import { randomBytes } from "node:crypto";
import { safeEqual } from "../secrets.ts";

/** A login code is good for this long, and once. */
export const LOGIN_CODE_TTL_MS = 120_000;

/** A session ends after this long without a request. */
export const SESSION_IDLE_MS = 12 * 3600_000;

/** The one path the browser uses (page, assets, login, and the JSON API under /ui/v1/): its cookies go nowhere else. */
export const UI_PATH = "/ui";

/** Header the page sends the CSRF token in. */
export const CSRF_HEADER = "x-petit-csrf";

/** Sessions and codes kept at most; the oldest go first. */
const MAX_ENTRIES = 64;

/** One signed-in browser. */
export interface Session {
  id: string;
  csrf: string;
  lastUsed: number;
}

/** Why a request is refused: HTTP status and a one-line message. */
export interface SessionRefusal {
  status: number;
  message: string;
}

/** Login codes and sessions of one daemon. */
export class SessionStore {
  readonly #codes = new Map<string, number>();
  readonly #sessions = new Map<string, Session>();

  /**
   * `cookiePrefix` names this daemon's cookies. Browsers share cookies among
   * all ports of 127.0.0.1, so each daemon needs names of its own (the port in them).
   */
  constructor(readonly cookiePrefix: string, private readonly now: () => number = Date.now) {}

  /** Name of the session cookie (HttpOnly). */
  get sessionCookie(): string {
    return `${this.cookiePrefix}_session`;
  }

  /** Name of the CSRF cookie (readable by the page's script, which echoes it in the header). */
  get csrfCookie(): string {
    return `${this.cookiePrefix}_csrf`;
  }

  /** Returns a new single-use login code, valid for LOGIN_CODE_TTL_MS. */
  issueCode(): string {
    const code = randomBytes(24).toString("base64url");
    prune(this.#codes, (expires) => expires <= this.now());
    this.#codes.set(code, this.now() + LOGIN_CODE_TTL_MS);
    trim(this.#codes);
    return code;
  }

  /** Trades a login code for a new session and the Set-Cookie values; undefined when the code is unknown, used or expired. */
  redeem(code: string | null | undefined): { session: Session; cookies: string[] } | undefined {
    if (!code) return undefined;
    const expires = this.#codes.get(code);
    this.#codes.delete(code);
    if (expires === undefined || expires <= this.now()) return undefined;
    const session: Session = { id: randomBytes(32).toString("base64url"), csrf: randomBytes(24).toString("base64url"), lastUsed: this.now() };
    prune(this.#sessions, (s) => this.#expired(s));
    this.#sessions.set(session.id, session);
    trim(this.#sessions);
    return {
      session,
      cookies: [
        `${this.sessionCookie}=${session.id}; Path=${UI_PATH}; HttpOnly; SameSite=Strict`,
        `${this.csrfCookie}=${session.csrf}; Path=${UI_PATH}; SameSite=Strict`,
      ],
    };
  }

  /** Returns the live session the Cookie header names (and marks it used), or undefined. */
  session(cookieHeader: string | undefined): Session | undefined {
    const id = parseCookies(cookieHeader)[this.sessionCookie];
    const session = id === undefined ? undefined : this.#sessions.get(id);
    if (!session) return undefined;
    if (this.#expired(session)) {
      this.#sessions.delete(session.id);
      return undefined;
    }
    session.lastUsed = this.now();
    return session;
  }

  /**
   * Checks a browser request: reads need a live session; anything else also
   * needs the CSRF header equal to the CSRF cookie and to the session's token,
   * whether or not an Origin header came with it. Returns the refusal, or
   * undefined when the request may go on.
   */
  authorize(method: string, headers: { cookie?: string; [CSRF_HEADER]?: string | string[] }): SessionRefusal | undefined {
    const session = this.session(headers.cookie);
    if (!session) return { status: 401, message: 'not signed in: run "petit ui" (or "petit server ui") for a login link' };
    if (method === "GET" || method === "HEAD") return undefined;
    const header = headers[CSRF_HEADER];
    const cookie = parseCookies(headers.cookie)[this.csrfCookie];
    if (typeof header !== "string" || cookie === undefined || !safeEqual(header, cookie) || !safeEqual(header, session.csrf)) {
      return { status: 403, message: `missing or wrong ${CSRF_HEADER} header: reload the page` };
    }
    return undefined;
  }

  /** Ends the session the Cookie header names; returns Set-Cookie values that clear both cookies. */
  end(cookieHeader: string | undefined): string[] {
    const id = parseCookies(cookieHeader)[this.sessionCookie];
    if (id !== undefined) this.#sessions.delete(id);
    return [this.sessionCookie, this.csrfCookie].map((name) => `${name}=; Path=${UI_PATH}; Max-Age=0; SameSite=Strict`);
  }

  #expired(session: Session): boolean {
    return this.now() - session.lastUsed > SESSION_IDLE_MS;
  }
}

/** Parses a Cookie header into name → value (the first of duplicate names wins). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !(name in out)) out[name] = part.slice(eq + 1).trim();
  }
  return out;
}

function prune<V>(map: Map<string, V>, dead: (value: V) => boolean): void {
  for (const [key, value] of map) if (dead(value)) map.delete(key);
}

function trim<V>(map: Map<string, V>): void {
  while (map.size > MAX_ENTRIES) map.delete(map.keys().next().value as string);
}
