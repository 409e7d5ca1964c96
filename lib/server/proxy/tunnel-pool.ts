/**
 * Connections from the proxy to a tunnel's relay end (127.0.0.1:<port>),
 * kept open between requests and shared by all visitors: each new one costs
 * an SSH channel and a connection from the client's ssh to the service. At
 * most POOL_CONNECTIONS per tunnel; requests beyond wait for one.
 * @module
 */
import { connect, type Socket } from "node:net";
import { ResponseHead } from "./http1/response-head.ts";

/** Connections the proxy opens to one tunnel at most (each one an SSH channel). */
export const POOL_CONNECTIONS = 128;
/** An idle connection is closed after this long (services close theirs after 5 s, node's default). */
export const IDLE_MS = 4_000;

/** Bytes read from a tunnel at once, into a buffer reused from read to read while nothing holds on to it. */
const READ_BYTES = 64 * 1024;

/** Whoever is using a tunnel connection now: told of its bytes, its end and its drain. */
export interface TunnelUser {
  onTunnelData(tunnel: Tunnel, chunk: Buffer): void;
  onTunnelEnd(tunnel: Tunnel, error: NodeJS.ErrnoException | undefined): void;
  onTunnelDrain(): void;
}

/** Where an exchange gets its connection and gives it back: a tunnel's pool, or the link to the relay holding it (forward-to-peer.ts). */
export interface TunnelSource {
  acquire(use: (tunnel: Tunnel) => void): void;
  release(tunnel: Tunnel, reusable: boolean): void;
}

/** One connection to a tunnel, with its response parser state (one response at a time). */
export class Tunnel {
  user: TunnelUser | undefined;
  /** Requests this connection has carried: a failure before the first answer on a reused one may be a close race. */
  served = 0;
  idleSince = 0;
  readonly head = new ResponseHead();
  /** The bytes of a response head that came in pieces. */
  partial: Buffer | undefined;
  /**
   * Set by the user when it still holds on to the last chunk (a write the
   * visitor's socket queued, a partial head): the next read then goes to a
   * fresh buffer instead of overwriting it.
   */
  retained = false;
  /**
   * Why the connection ended before an answer, as the 502 says it after
   * "petit: "; unset for a tunnel's own port (admit.ts says it then).
   */
  describeEnd: ((error: NodeJS.ErrnoException | undefined) => string) | undefined;
  #buffer: Buffer | undefined;
  #ended = false;
  readonly socket: Socket;

  /**
   * Connects to 127.0.0.1:`port`, or takes `port`, a socket already made
   * (the connection to another relay); `pooled` connections read into a
   * reused buffer (no stream, no allocation per read).
   */
  constructor(port: number | Socket, pooled: boolean) {
    const onData = (chunk: Buffer) => (this.user ? this.user.onTunnelData(this, chunk) : this.socket.destroy());
    const socket = typeof port !== "number"
      ? port.on("data", onData)
      : pooled
      ? connect({ host: "127.0.0.1", port, noDelay: true, onread: { buffer: () => this.#nextBuffer(), callback: (n, buf) => { onData((buf as Buffer).subarray(0, n)); return true; } } })
      : connect({ host: "127.0.0.1", port, noDelay: true }).on("data", onData);
    this.socket = socket;
    socket.on("drain", () => this.user?.onTunnelDrain());
    socket.on("error", (error: NodeJS.ErrnoException) => this.#end(error));
    socket.on("end", () => this.#end(undefined));
    socket.on("close", () => this.#end(undefined));
  }

  #nextBuffer(): Buffer {
    if (this.#buffer === undefined || this.retained) {
      this.#buffer = Buffer.allocUnsafe(READ_BYTES);
      this.retained = false;
    }
    return this.#buffer;
  }

  #end(error: NodeJS.ErrnoException | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    const user = this.user;
    this.user = undefined;
    this.socket.destroy();
    user?.onTunnelEnd(this, error);
  }

  /** Tells whether it was closed. */
  get ended(): boolean {
    return this.#ended || this.socket.destroyed;
  }

  /** Takes the socket out of request/response use (a 101 made it a byte pipe): its listeners go. */
  detach(): Socket {
    this.#ended = true;
    this.user = undefined;
    this.socket.removeAllListeners("data").removeAllListeners("drain").removeAllListeners("end").removeAllListeners("close").removeAllListeners("error");
    return this.socket;
  }
}

/**
 * Opens a connection to 127.0.0.1:`port` (writes may start before it is
 * connected) outside any pool, for an Upgrade: after a 101 it becomes a
 * stream piped to the visitor.
 */
export function openTunnel(port: number): Tunnel {
  return new Tunnel(port, false);
}

/** The idle connections of one tunnel, and the requests waiting for one. */
export class TunnelPool implements TunnelSource {
  readonly #idle: Tunnel[] = [];
  readonly #waiting: ((tunnel: Tunnel) => void)[] = [];
  #open = 0;

  constructor(readonly port: number, private readonly max = POOL_CONNECTIONS) {}

  /** Gives `use` a connection: an idle one (the most recent), a new one, or, at the limit, the next one given back. */
  acquire(use: (tunnel: Tunnel) => void): void {
    while (this.#idle.length > 0) {
      const tunnel = this.#idle.pop()!;
      if (!tunnel.ended) return use(tunnel);
      this.#open--;
    }
    if (this.#open >= this.max) return void this.#waiting.push(use);
    this.#open++;
    use(this.#create());
  }

  /** Takes back `tunnel` after a request: kept for the next one when `reusable`, else closed. */
  release(tunnel: Tunnel, reusable: boolean): void {
    tunnel.user = undefined;
    tunnel.partial = undefined;
    if (tunnel.socket.isPaused()) tunnel.socket.resume();
    if (!reusable || tunnel.ended) {
      tunnel.socket.destroy();
      this.#open--;
      const next = this.#waiting.shift();
      if (next) {
        this.#open++;
        next(this.#create());
      }
      return;
    }
    tunnel.served++;
    const next = this.#waiting.shift();
    if (next) return next(tunnel);
    tunnel.idleSince = Date.now();
    this.#idle.push(tunnel);
  }

  /** Closes connections idle since before `now - IDLE_MS`. */
  sweep(now: number): void {
    while (this.#idle.length > 0 && (this.#idle[0].ended || now - this.#idle[0].idleSince > IDLE_MS)) {
      this.#idle.shift()!.socket.destroy();
      this.#open--;
    }
  }

  /** Closes every idle connection (at shutdown). */
  close(): void {
    for (const tunnel of this.#idle.splice(0)) tunnel.socket.destroy();
  }

  #create(): Tunnel {
    return new Tunnel(this.port, true);
  }
}
