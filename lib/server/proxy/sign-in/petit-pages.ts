/**
 * What petit answers under /.petit/ on a tunnel's host, for every tunnel,
 * public or private (the path is the relay's, never the service's):
 * GET /.petit/sign-in (the form, or a sign-in link's button), POST
 * /.petit/sign-in (a token or link; a cookie and a redirect), GET and POST
 * /.petit/sign-out (a button; the cookie cleared), and 404 for anything else there.
 * @module
 */
import { clientAddress } from "../../../http/client-address.ts";
import { safeEqual } from "../../../secrets.ts";
import { labelFromHost } from "../route.ts";
import type { ProxyOptions, ProxyRequest } from "../types.ts";
import { CLEAR_COOKIE } from "./cookie.ts";
import { safeNextPath } from "./next-path.ts";
import { messagePage, needsHttpsPage, PAGE_HEADERS, signInPage, signOutPage } from "./pages.ts";
import { isSecure, type SignIn } from "./sign-in.ts";

/** petit's answer to a /.petit/ request: an HTML page, a redirect, or a one-line refusal. */
export interface PetitAnswer {
  status: number;
  headers: Record<string, string>;
  /** An HTML page; absent: `line` as plain text. */
  html?: string;
  line?: string;
}

/** What a /.petit/ request brings besides the ProxyRequest: its body (a form) and its Origin field. */
export interface PetitInput {
  body: string;
  origin: string | undefined;
}

const redirect = (location: string, headers: Record<string, string> = {}): PetitAnswer =>
  ({ status: 303, headers: { ...PAGE_HEADERS, location, ...headers }, html: "" });
const text = (status: number, line: string, headers: Record<string, string> = {}): PetitAnswer => ({ status, headers, line });
const html = (status: number, body: string, headers: Record<string, string> = {}): PetitAnswer =>
  ({ status, headers: { ...PAGE_HEADERS, ...headers }, html: body });

/** Tells whether `url` (an origin-form target) is under petit's reserved /.petit/. */
export function isPetitPath(url: string): boolean {
  return url.charCodeAt(1) === 46 /* "." */ && (url.startsWith("/.petit/") || url === "/.petit" || url.startsWith("/.petit?"));
}

/** Answers a /.petit/ request `req` with `input`, with the proxy's `options` and the relay's `signIn`. */
export function answerPetitPath(req: ProxyRequest, input: PetitInput, options: ProxyOptions, signIn: SignIn): PetitAnswer | Promise<PetitAnswer> {
  const host = String(req.headers.host ?? "");
  const label = labelFromHost(host, options.domain);
  const route = label === undefined ? undefined : options.resolve(label);
  if (!route) return text(404, `petit: no tunnel for host "${host.slice(0, 200)}" on this relay`);
  const source = clientAddress(req, options.trustedProxies);
  const denied = options.gate.sourceRefusal(route.access, source);
  if (denied) {
    options.metrics?.refused(denied.status);
    return text(denied.status, `petit: ${denied.reason}`);
  }
  const query = req.url.indexOf("?");
  const path = query < 0 ? req.url : req.url.slice(0, query);
  const params = new URLSearchParams(query < 0 ? "" : req.url.slice(query + 1));
  if (path === "/.petit/sign-out") {
    if (req.method === "GET" || req.method === "HEAD") return html(200, signOutPage(host));
    if (req.method !== "POST") return text(405, "petit: /.petit/sign-out takes GET and POST", { allow: "GET, HEAD, POST" });
    return redirect("/.petit/sign-in", { "set-cookie": CLEAR_COOKIE });
  }
  if (path !== "/.petit/sign-in") return text(404, `petit: no page "${path.slice(0, 100)}" (/.petit/ is reserved for the relay's own pages)`);
  const isGet = req.method === "GET" || req.method === "HEAD";
  if (!isGet && req.method !== "POST") return text(405, "petit: the sign-in page takes GET and POST", { allow: "GET, HEAD, POST" });
  const form = req.method === "POST" ? new URLSearchParams(input.body) : params;
  const next = safeNextPath(form.get("next"));
  // A public tunnel needs no sign-in: on to where the browser was going.
  if (route.access.public) return redirect(next);
  if (!isSecure(req, options)) return html(isGet ? 401 : 403, needsHttpsPage(host));
  if (isGet) return html(200, signInPage({ host, next, link: params.get("link") ?? undefined }));
  // A form posted from another site is refused: it could only sign this browser in to a tunnel of the poster's choosing.
  if (input.origin !== undefined && !sameHost(input.origin, host)) return text(403, "petit: a sign-in must be posted from this host's own page");
  const lockout = options.gate.lockout(source);
  if (lockout) {
    options.metrics?.refused(429);
    return html(429, messagePage("Too many attempts", lockout.reason), lockout.headers);
  }
  const link = form.get("link");
  const token = form.get("token");
  const settle = (ok: boolean): PetitAnswer => {
    if (ok) return redirect(next, { "set-cookie": signIn.cookieFor(route.id, route.access.token) });
    options.gate.countFailure(source);
    // Counted with the proxy's other failed visitor access (petit_visitor_auth_failures_total{reason="missing_or_wrong_token"}).
    options.metrics?.refused(407);
    const error = link ? "This sign-in link was used already, has expired, or is for another host. Ask for a new one, or enter the access token."
      : "Wrong access token for this host.";
    return html(401, signInPage({ host, next, error }));
  };
  if (!link) return settle(token !== null && token !== "" && safeEqual(token.trim(), route.access.token));
  // A link is spent in the store when relays share one: that may fail while it is away, and the link stays good.
  return signIn.links.redeem(link, route.id, route.access.token, signIn.now()).then(settle, (error: Error) => {
    options.log(`sign-in: could not check a link for client ${route.id}: ${error.message}`);
    return html(503, messagePage("Try again in a moment", "The relay cannot check sign-in links right now (its store cannot be reached). Your link is still good."));
  });
}

/** Tells whether the Origin field `origin` (the browser's text) names `host` over HTTPS. */
function sameHost(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return url.protocol === "https:" && url.host === new URL(`https://${host}`).host;
  } catch {
    return false;
  }
}
