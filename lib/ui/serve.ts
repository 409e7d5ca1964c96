/**
 * The browser side of a control port: the page and its assets, the one-time
 * login, /metrics, /healthz and /readyz. Plugged into createControlServer()
 * as its `open` and `authorize` hooks. The page's JSON calls go to
 * /ui/v1/…, the ordinary control routes under UI_PATH (where the session
 * cookie is sent), with the cookie and CSRF header instead of the secret;
 * /v1/… itself answers the secret only.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { CONTROL_SECRET_HEADER } from "../constants.ts";
import { sendJson } from "../http/body.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../http/prometheus.ts";
import type { ControlOptions, ControlRoutes } from "../daemon/control-server.ts";
import { LOGIN_CODE_TTL_MS, UI_PATH, type SessionStore } from "./session.ts";
import { loginLanding, signedOutPage, type ConsolePage } from "./pages.ts";

/** What the console serves. */
export interface ConsoleOptions {
  sessions: SessionStore;
  page: ConsolePage;
  /** The /metrics text. */
  metrics: () => string | Promise<string>;
  /** Why the daemon is not ready (/readyz answers 503 with it), or undefined when it is. */
  notReady: () => string | undefined;
  /** The command that prints a login link, for the signed-out page ("petit ui"). */
  loginCommand: string;
  log: (line: string) => void;
}

/** Path of the route the CLI calls (with the secret) for a login code. */
export const LOGIN_CODE_PATH = "/v1/ui/login-code";

/** Security headers of every page and asset: nothing from elsewhere, no framing, no caching. */
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** Returns the control route that hands the CLI a login code and URL. */
export function consoleRoutes(sessions: SessionStore, port: () => number): ControlRoutes {
  return {
    [`POST ${LOGIN_CODE_PATH}`]: () => {
      const code = sessions.issueCode();
      return { code, url: `http://127.0.0.1:${port()}/ui/login?code=${code}`, expires_in: LOGIN_CODE_TTL_MS / 1000 };
    },
  };
}

/** Returns the control-server hooks serving the console described by `options`. */
export function consoleHooks(options: ConsoleOptions): ControlOptions {
  const { sessions, page } = options;
  const html = page.html(sessions.csrfCookie);
  const send = (res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string | string[]> = {}) => {
    res.writeHead(status, { ...PAGE_HEADERS, ...extra, "content-type": type, "content-length": Buffer.byteLength(body) });
    res.end(body);
  };
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void> = {
    "GET /metrics": (_, res) => {
      Promise.resolve().then(options.metrics).then(
        (text) => send(res, 200, PROMETHEUS_CONTENT_TYPE, text),
        (error: Error) => {
          options.log(`control: GET /metrics: ${error.message}`);
          send(res, 500, "text/plain; charset=utf-8", "metrics failed; see the daemon's log\n");
        },
      );
    },
    "GET /healthz": (_, res) => send(res, 200, "text/plain; charset=utf-8", "ok\n"),
    "GET /readyz": (_, res) => {
      const why = options.notReady();
      send(res, why ? 503 : 200, "text/plain; charset=utf-8", why ? `not ready: ${why}\n` : "ready\n");
    },
    "GET /": (_, res) => send(res, 303, "text/plain; charset=utf-8", "see /ui\n", { location: "/ui" }),
    "GET /ui": (req, res) => sessions.session(req.headers.cookie)
      ? send(res, 200, "text/html; charset=utf-8", html)
      : send(res, 401, "text/html; charset=utf-8", signedOutPage(page.title, options.loginCommand, false)),
    "GET /ui/app.js": (_, res) => send(res, 200, "text/javascript; charset=utf-8", page.js),
    "GET /ui/app.css": (_, res) => send(res, 200, "text/css; charset=utf-8", page.css),
    "GET /ui/login": (req, res, query) => {
      const login = sessions.redeem(query.get("code"));
      if (!login) return send(res, 401, "text/html; charset=utf-8", signedOutPage(page.title, options.loginCommand, true));
      options.log(`console: signed in a browser session from ${req.socket.remoteAddress}`);
      // A page that moves on by itself, not a redirect: after a link clicked in another site's page a redirect
      // would still count as cross-site, and the browser would withhold the new SameSite=Strict cookie.
      send(res, 200, "text/html; charset=utf-8", loginLanding(page.title), { "set-cookie": login.cookies });
    },
    "POST /ui/logout": (req, res) => {
      const refusal = sessions.authorize("POST", req.headers);
      if (refusal) return sendJson(res, refusal.status, { error: refusal.message });
      res.setHeader("set-cookie", sessions.end(req.headers.cookie));
      sendJson(res, 200, { signed_out: true });
    },
  };
  // Requests that came in as /ui/v1/…: the only ones a browser session may make.
  const browserCalls = new WeakSet<IncomingMessage>();
  return {
    open(req, res) {
      const refusal = checkOrigin(req);
      if (refusal) {
        sendJson(res, refusal.status, { error: refusal.message });
        return true;
      }
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (url.pathname.startsWith(`${UI_PATH}/v1/`)) {
        browserCalls.add(req);
        req.url = req.url!.slice(UI_PATH.length);
        return false;
      }
      const route = routes[`${req.method === "HEAD" ? "GET" : req.method} ${url.pathname}`];
      if (!route) return false;
      route(req, res, url.searchParams);
      return true;
    },
    authorize(req, path) {
      if (!browserCalls.has(req)) return { status: 401, message: `missing or wrong ${CONTROL_SECRET_HEADER} header (the web console calls ${UI_PATH}${path})` };
      if (path === LOGIN_CODE_PATH) return { status: 401, message: "a login code needs the control secret (run \"petit ui\")" };
      return sessions.authorize(req.method ?? "GET", req.headers);
    },
  };
}

/**
 * Refuses requests for another host name (DNS rebinding: a page of another
 * site whose name was pointed at 127.0.0.1) and cross-origin writes.
 */
export function checkOrigin(req: IncomingMessage): { status: number; message: string } | undefined {
  const host = req.headers.host ?? "";
  const name = host.replace(/:\d+$/, "").toLowerCase();
  if (!["127.0.0.1", "localhost", "[::1]"].includes(name)) {
    return { status: 421, message: `this control port answers only as 127.0.0.1 or localhost, not "${host.slice(0, 100)}"` };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && req.method !== "GET" && req.method !== "HEAD" && origin !== `http://${host}`) {
    return { status: 403, message: `cross-origin request from "${origin.slice(0, 100)}" refused` };
  }
  return undefined;
}
