/**
 * Admission: which tunnel a proxied request is for, and whether its visitor
 * may reach it. Also the wording of the proxy's "tunnel failed" refusals,
 * which the HTTP and the raw (Upgrade/CONNECT) halves share.
 * @module
 */
import { clientAddress } from "../../http/client-address.ts";
import type { ProxyOptions, ProxyRequest, Route } from "./types.ts";
import { labelFromHost } from "./route.ts";
import type { Refusal } from "./visitor-auth.ts";

/**
 * Finds the route for a request and checks the visitor; returns the route or
 * the refusal. `host` is the Host header, or CONNECT's target. (A second
 * Host header never gets here: the head parser refuses it.)
 */
export function admit(req: ProxyRequest, options: ProxyOptions, host: string | undefined): Route | Refusal {
  const label = host === undefined ? undefined : cachedLabel(host, options.domain);
  const route = label === undefined ? undefined : options.resolve(label);
  if (!route) return { status: 404, reason: `no tunnel for host "${(host ?? "").slice(0, 200)}" on this relay` };
  // The visitor, not a load balancer in front: lockouts and allow_from are about who sent the request.
  const refusal = options.gate.check(route.access, req, clientAddress(req, options.trustedProxies), route.id);
  if (refusal === undefined) return route;
  options.metrics?.refused(refusal.status);
  // A person's browser gets the sign-in page instead of the one line.
  return refusal.status === 407 && options.signIn ? options.signIn.browserRefusal(req, refusal, options) : refusal;
}

/** Labels of recent Host values, by domain: visitors send the same few hosts again and again. */
const byDomain = new Map<string, Map<string, string | undefined>>();
/** The most Host values remembered per domain; the memory starts over beyond. */
const MAX_LABELS = 1_024;

function cachedLabel(host: string, domain: string): string | undefined {
  let labels = byDomain.get(domain);
  if (!labels) byDomain.set(domain, (labels = new Map()));
  const known = labels.get(host);
  if (known !== undefined || labels.has(host)) return known;
  if (labels.size >= MAX_LABELS) labels.clear();
  const label = labelFromHost(host, domain);
  labels.set(host, label);
  return label;
}

/** Says why a connection to a tunnel failed, to follow "tunnel <id>" in a 502 refusal. */
export function describeTunnelError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "ECONNREFUSED":
      return "is not connected";
    // The relay's end of the tunnel accepted, then closed without an answer: the client's ssh could not reach its target.
    case "ECONNRESET":
    case "EPIPE":
      return "is connected, but the service behind it closed the connection without answering (is it running? \"petit doctor\" on the client checks it)";
    default:
      return `failed (${error.code ?? error.message})`;
  }
}
