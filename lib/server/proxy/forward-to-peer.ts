/**
 * One-hop forwarding between relays sharing a store: a visitor's request
 * for a tunnel another relay holds goes to that relay as the visitor sent
 * it (token included: the holder admits it again and strips it), and its
 * answer comes back through this relay's exchange, request by request (a
 * CONNECT: the whole connection, as bytes). A signed line goes first on
 * each connection (peer-preamble.ts); the holder treats the visitor it
 * names as the source and never forwards again.
 * @module
 */
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { connect as connectTls, rootCertificates } from "node:tls";
import { signPreamble } from "./peer-preamble.ts";
import { joinSockets, type Forward } from "./pipe.ts";
import { refuseRaw } from "./raw.ts";
import { Tunnel, type TunnelSource } from "./tunnel-pool.ts";
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
 * Opens a connection to the relay holding `route`'s tunnel: TLS when this
 * relay's proxy speaks TLS (the relays of one domain serve the same names),
 * verified against the name the visitor asked for. Writes may begin at once.
 */
function connectToHolder(route: Route, options: ProxyOptions): Duplex & { setNoDelay?: (on: boolean) => unknown } {
  const peer = route.peer!;
  const port = Number(/:(\d{1,5})$/.exec(peer.address)?.[1] ?? 0);
  const host = peer.address.slice(0, peer.address.lastIndexOf(":")).replace(/^\[|\]$/g, "");
  if (!options.tls) return connect({ host, port, noDelay: true });
  const servername = `${route.id}.${options.domain}`;
  const own = options.tls.cert === undefined ? [] : [options.tls.cert].flat();
  return connectTls({ host, port, servername, ALPNProtocols: ["http/1.1"], ca: [...rootCertificates, ...own] });
}

/**
 * The holder of `route`'s tunnel could not be reached (`why`): presence is
 * read again (at most once a second: a client may just have moved here),
 * it is logged (once per relay per LOG_EVERY_MS: during a partition every
 * visitor of its tunnels fails alike), and the visitor's 502 reason returned.
 */
function unreachable(route: Route, why: string, options: ProxyOptions): string {
  const peer = route.peer!;
  const now = Date.now();
  if (now - lastRecheck >= RECHECK_EVERY_MS) {
    lastRecheck = now;
    options.peering!.onUnreachable?.();
  }
  if (now - (lastLogged.get(peer.node) ?? 0) >= LOG_EVERY_MS) {
    lastLogged.set(peer.node, now);
    options.log(`proxy: cannot forward visitors of tunnel ${route.id} (and others held there) to relay ${peer.node} at ${peer.address}: ${why}`);
  }
  return `tunnel ${route.id} is held by relay ${peer.node}, which cannot be reached at ${peer.address}: ${why}`;
}

/**
 * The connections one visitor connection's requests take to the relays
 * holding their tunnels, as a source of tunnel connections for its
 * exchanges (exchange.ts): each request is routed afresh, so a keep-alive
 * connection (a load balancer's, say) may name tunnels held by different
 * relays, one request after another. A connection the holder kept open is
 * kept for the next request to the same holder, on behalf of the same visitor.
 */
export class PeerLinks {
  #idle: { key: string; tunnel: Tunnel } | undefined;

  constructor(private readonly options: ProxyOptions) {}

  /** The source of connections for one request of `visitorAddress` to `route`'s holder. */
  to(route: Route, visitorAddress: string): TunnelSource {
    const key = `${route.peer!.node} ${route.peer!.address} ${visitorAddress}`;
    return {
      acquire: (use) => {
        const idle = this.#idle;
        this.#idle = undefined;
        if (idle && idle.key === key && !idle.tunnel.ended) return use(idle.tunnel);
        idle?.tunnel.socket.destroy();
        use(this.#open(route, visitorAddress));
      },
      release: (tunnel, reusable) => {
        tunnel.user = undefined;
        tunnel.partial = undefined;
        if (!reusable || tunnel.ended) return void tunnel.socket.destroy();
        tunnel.served++;
        if (tunnel.socket.isPaused()) tunnel.socket.resume();
        this.#idle?.tunnel.socket.destroy();
        this.#idle = { key, tunnel };
      },
    };
  }

  /** Closes the connection kept for a next request (the visitor's connection closed). */
  close(): void {
    this.#idle?.tunnel.socket.destroy();
    this.#idle = undefined;
  }

  /** A new connection to the holder, the signed line naming the visitor written first. */
  #open(route: Route, visitorAddress: string): Tunnel {
    const { secret, self } = this.options.peering!;
    const socket = connectToHolder(route, this.options);
    const tunnel = new Tunnel(socket as Socket, false);
    let connected = false;
    const timer = setTimeout(() => {
      socket.destroy(new Error(`no connection within ${PEER_CONNECT_TIMEOUT_MS / 1000} s`));
    }, PEER_CONNECT_TIMEOUT_MS);
    socket.once(this.options.tls ? "secureConnect" : "connect", () => {
      connected = true;
      clearTimeout(timer);
      socket.setNoDelay?.(true);
    });
    socket.once("close", () => clearTimeout(timer));
    tunnel.describeEnd = (error) => {
      const why = error ? describePeerError(error) : "closed";
      return connected
        ? `tunnel ${route.id} is held by relay ${route.peer!.node}, which closed the forwarded connection without answering (${why})`
        : unreachable(route, why, this.options);
    };
    socket.write(signPreamble(secret, self, visitorAddress));
    return tunnel;
  }
}

/**
 * CONNECT to a tunnel another relay holds: the connection, from the
 * request on (`bytes`: the request and whatever followed it), is piped to
 * the holder after the signed line naming `visitorAddress` (`forward`
 * starts the visitor's side, pipe.ts). When the holder cannot be reached
 * within PEER_CONNECT_TIMEOUT_MS the visitor gets a 502 naming it.
 */
export function forwardToPeer(visitor: Socket, route: Route, bytes: Buffer, visitorAddress: string, options: ProxyOptions, forward?: Forward): void {
  const { secret, self } = options.peering!;
  visitor.pause();
  const out = connectToHolder(route, options);
  // Connected, refused, or the visitor gone: whichever comes first settles it.
  let settled = false;
  const fail = (why: string) => {
    clearTimeout(timer);
    if (settled) return void visitor.destroy();
    settled = true;
    out.destroy();
    // Read on, so the visitor's end of the connection is seen and the socket closes (the bytes go nowhere).
    visitor.resume();
    refuseRaw(visitor, { status: 502, reason: unreachable(route, why, options) });
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
