/**
 * One-hop forwarding between relays sharing a store: a visitor whose tunnel
 * another relay holds has its connection handed to that relay, as bytes,
 * from the request that named the tunnel on (the head as the visitor sent
 * it, token included: the holder admits it again and strips it). A signed
 * line goes first (peer-preamble.ts); the holder treats the visitor it names
 * as the source and never forwards again.
 * @module
 */
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { connect as connectTls, rootCertificates } from "node:tls";
import { signPreamble } from "./peer-preamble.ts";
import { joinSockets, type Forward } from "./pipe.ts";
import { refuseRaw } from "./raw.ts";
import type { ProxyOptions, Route } from "./types.ts";
import type { Refusal } from "./visitor-auth.ts";

/** How long the holder has to accept the connection before the visitor gets 502 (a partition drops SYNs: no refusal comes). */
export const PEER_CONNECT_TIMEOUT_MS = 3_000;

/** How often an unreachable relay is logged at most. */
const LOG_EVERY_MS = 10_000;
const lastLogged = new Map<string, number>();
/** How often a failure to reach a holder makes this relay read presence again, at most. */
const RECHECK_EVERY_MS = 1_000;
let lastRecheck = 0;

/** The relays a connection was forwarded from, by the socket it came on (from-peer.ts marks them). */
export const forwardedFrom = new WeakMap<object, string>();

/**
 * The refusal of a request for a tunnel held elsewhere on a connection
 * another relay forwarded here: one hop only, so two relays that disagree
 * about the holder never bounce a visitor between them.
 */
export function oneHopRefusal(route: Route, socket: object): Refusal | undefined {
  const from = forwardedFrom.get(socket);
  if (from === undefined) return undefined;
  return {
    status: 502,
    reason: `tunnel ${route.id} is held by relay ${route.peer!.node}, not by this one; relay ${from} forwarded this request here, ` +
      "and a forwarded request is not forwarded again (the relays' presence will agree within seconds: try again)",
  };
}

/**
 * Connects to the relay holding `route`'s tunnel (TLS when this relay's
 * proxy speaks TLS: the relays of one domain serve the same names), sends
 * the signed line naming `visitorAddress`, then `bytes` (the request that
 * named the tunnel and whatever followed it), and pipes the two connections
 * into each other (`forward` starts the visitor's side, pipe.ts). When the holder cannot be reached within
 * PEER_CONNECT_TIMEOUT_MS the visitor gets a 502 naming it.
 */
export function forwardToPeer(visitor: Socket, route: Route, bytes: Buffer, visitorAddress: string, options: ProxyOptions, forward?: Forward): void {
  const peer = route.peer!;
  const { secret, self } = options.peering!;
  const port = Number(/:(\d{1,5})$/.exec(peer.address)?.[1] ?? 0);
  const host = peer.address.slice(0, peer.address.lastIndexOf(":")).replace(/^\[|\]$/g, "");
  visitor.pause();
  let out: Duplex & { setNoDelay?: (on: boolean) => unknown };
  if (options.tls) {
    // Verified against the domain the visitor asked for: the holder serves the same certificate, or one for the same names.
    const servername = `${route.id}.${options.domain}`;
    const own = options.tls.cert === undefined ? [] : [options.tls.cert].flat();
    out = connectTls({ host, port, servername, ALPNProtocols: ["http/1.1"], ca: [...rootCertificates, ...own] });
  } else {
    out = connect({ host, port, noDelay: true });
  }
  // Connected, refused, or the visitor gone: whichever comes first settles it.
  let settled = false;
  const fail = (why: string) => {
    clearTimeout(timer);
    if (settled) return void visitor.destroy();
    settled = true;
    out.destroy();
    const now = Date.now();
    if (now - lastRecheck >= RECHECK_EVERY_MS) {
      lastRecheck = now;
      options.peering!.onUnreachable?.();
    }
    // Once per relay per LOG_EVERY_MS: during a partition every visitor of its tunnels fails alike.
    if (now - (lastLogged.get(peer.node) ?? 0) >= LOG_EVERY_MS) {
      lastLogged.set(peer.node, now);
      options.log(`proxy: cannot forward visitors of tunnel ${route.id} (and others held there) to relay ${peer.node} at ${peer.address}: ${why}`);
    }
    // Read on, so the visitor's end of the connection is seen and the socket closes (the bytes go nowhere).
    visitor.resume();
    refuseRaw(visitor, { status: 502, reason: `tunnel ${route.id} is held by relay ${peer.node}, which cannot be reached at ${peer.address}: ${why}` });
  };
  const timer = setTimeout(() => fail(`no connection within ${PEER_CONNECT_TIMEOUT_MS / 1000} s`), PEER_CONNECT_TIMEOUT_MS);
  out.once(options.tls ? "secureConnect" : "connect", () => {
    clearTimeout(timer);
    if (settled) return;
    settled = true;
    out.setNoDelay?.(true);
    out.write(Buffer.concat([signPreamble(secret, self, visitorAddress), bytes]));
    joinSockets(visitor, out as Socket, forward);
  });
  out.on("error", (error: NodeJS.ErrnoException) => fail(describePeerError(error)));
  visitor.on("close", () => {
    clearTimeout(timer);
    settled = true;
    out.destroy();
  });
}

/** Says why the holder could not be reached, after "which cannot be reached at HOST:PORT: ". */
function describePeerError(error: NodeJS.ErrnoException): string {
  if (error.code === "ECONNREFUSED") return "connection refused (is its petit-serverd running? is server.node_address right?)";
  return error.code ? `${error.code} (${error.message})` : error.message;
}
