/**
 * One request and its answer on a tunnel connection: the rewritten head and
 * the body go to the tunnel (framing scanned, not decoded; paced: a stalled
 * body gets 408), the service's answer comes back through answer.ts, and
 * the connection goes back to the pool when both ends of the exchange were
 * framed well. No answer in time: 504; none at all: 502.
 * @module
 */
import type { Socket } from "node:net";
import type { ClientCounters } from "../metrics/metrics.ts";
import { describeTunnelError } from "./admit.ts";
import { Answer } from "./answer.ts";
import { textAnswer } from "./answers.ts";
import { PaceWatch, stalledReason } from "./body.ts";
import { isSharedRead, type ProxyContext } from "./context.ts";
import { BodyFraming, Delimit } from "./http1/body-framing.ts";
import type { Tunnel, TunnelSource, TunnelUser } from "./tunnel-pool.ts";

/** The visitor's side of an exchange: told when it is over, or when a 101 made it a byte pipe. */
export interface ExchangeOwner {
  /** The exchange is over with `status`; `close`: the visitor's connection must close after what was written. */
  finished(status: number, close: boolean): void;
  /** The service answered 101: `socket` is now a raw pipe; `rest` came after its head. */
  upgraded(socket: Socket, rest: Buffer): void;
}

/** What one request needs besides its bytes. */
export interface ExchangeRequest {
  pool: TunnelSource | undefined;
  routeId: number;
  counters: ClientCounters | undefined;
  isHead: boolean;
  upgrade: boolean;
  /** The visitor's HTTP minor version, and whether it asked to close after this request. */
  minor: number;
  close: boolean;
  /** The request body's framing, as its head said. */
  chunked: boolean;
  contentLength: number;
}

/** The exchanges of one visitor connection, one at a time. */
export class Exchange implements TunnelUser {
  tunnel: Tunnel | undefined;
  r!: ExchangeRequest;
  /** The request body, and how fast it comes. */
  readonly body = new BodyFraming();
  readonly #pace = new PaceWatch();
  readonly #answer: Answer;
  #head!: Buffer;
  #retried = false;
  /** When the service must have begun its answer (0: not waiting). */
  #deadline = 0;

  constructor(readonly visitor: Socket, readonly context: ProxyContext, readonly owner: ExchangeOwner) {
    this.#answer = new Answer(this);
  }

  /** Tells whether the visitor is still sending the request body. */
  get sendingBody(): boolean {
    return this.tunnel !== undefined && !this.body.done;
  }

  /**
   * Sends `head` and the body bytes at buf[at…] through `tunnel`. Returns
   * where the request ended in `buf` (bytes after it are the visitor's next
   * request), or -1 while the body goes on (feed() takes the rest).
   */
  begin(tunnel: Tunnel, request: ExchangeRequest, head: Buffer, buf: Buffer, at: number): number {
    this.r = request;
    this.#head = head;
    this.#retried = false;
    this.#answer.reset();
    if (request.chunked) this.body.start(Delimit.Chunked);
    else this.body.start(Delimit.Length, Math.max(0, request.contentLength));
    this.#attach(tunnel);
    if (this.body.done) {
      tunnel.socket.write(head);
      this.#deadline = Date.now() + this.context.upstreamTimeoutMs;
      return at;
    }
    this.#pace.start(Date.now(), this.context.pace);
    tunnel.socket.cork();
    tunnel.socket.write(head);
    const end = this.feed(buf, at);
    tunnel.socket.uncork();
    return end;
  }

  #attach(tunnel: Tunnel): void {
    this.tunnel = tunnel;
    tunnel.user = this;
    tunnel.partial = undefined;
  }

  /** Passes request body bytes buf[at…] on; returns where the body ended in `buf`, or -1 while it goes on. */
  feed(buf: Buffer, at: number): number {
    const tunnel = this.tunnel;
    if (!tunnel || this.body.done) return at;
    let stop: number;
    try {
      stop = this.body.take(buf, at);
    } catch (error) {
      this.fail(400, `petit: malformed request body (${(error as Error).message})`, true);
      return -1;
    }
    if (stop > at) {
      this.#pace.received += stop - at;
      if (this.r.counters) this.r.counters.bytesIn += stop - at;
      const bytes = at === 0 && stop === buf.length ? buf : buf.subarray(at, stop);
      // Bytes of the shared read buffer go from a copy: the write may still hold them when the next read comes.
      if (!(isSharedRead(this.context, bytes) ? this.context.copies.write(tunnel.socket, bytes) : tunnel.socket.write(bytes))) {
        this.#pace.held = true;
        this.visitor.pause();
      }
    }
    if (!this.body.done) return -1;
    if (!this.#answer.started) this.#deadline = Date.now() + this.context.upstreamTimeoutMs;
    return stop;
  }

  onTunnelDrain(): void {
    if (!this.#pace.held) return;
    this.#pace.held = false;
    this.visitor.resume();
  }

  /** The visitor's socket drained: the tunnel may send again. */
  onVisitorDrain(): void {
    if (this.tunnel?.socket.isPaused()) this.tunnel.socket.resume();
  }

  onTunnelData(tunnel: Tunnel, chunk: Buffer): void {
    if (tunnel !== this.tunnel) return;
    this.#answer.read(tunnel, chunk);
    // The chunk lives in the tunnel's read buffer: a write the visitor's socket queued still points into it.
    if (tunnel.partial !== undefined || this.visitor.writableLength > 0) tunnel.retained = true;
  }

  /** The answer has begun: no deadline for its start any more. */
  answered(): void {
    this.#deadline = 0;
  }

  /** The answer ended: the tunnel goes back (kept when both messages were framed well), the visitor is told. */
  complete(status: number, reusable: boolean, close: boolean): void {
    this.release(this.body.done && reusable);
    this.owner.finished(status, close);
  }

  /** Gives the tunnel connection back to its pool (closed unless `reusable`). */
  release(reusable: boolean): void {
    const tunnel = this.tunnel;
    if (!tunnel) return;
    this.tunnel = undefined;
    this.#deadline = 0;
    if (this.r.pool) this.r.pool.release(tunnel, reusable);
    else tunnel.socket.destroy();
  }

  /** Ends the exchange with petit's own answer `line`, or cuts the visitor when the service's answer had begun. */
  fail(status: number, line: string, close: boolean): void {
    this.release(false);
    if (this.#answer.started) return this.broken();
    const closing = close || !this.body.done || this.r.close;
    this.visitor.write(textAnswer(status, line, undefined, closing));
    this.owner.finished(status, closing);
  }

  /** The answer broke off after it had begun: the visitor cannot be told otherwise than by a cut. */
  broken(): void {
    this.release(false);
    this.visitor.destroy();
    this.owner.finished(this.#answer.status, true);
  }

  onTunnelEnd(tunnel: Tunnel, error: NodeJS.ErrnoException | undefined): void {
    if (tunnel !== this.tunnel) return;
    if (this.#answer.started) return this.#answer.ended();
    // A reused connection the service closed just as it was taken: a request without a body is sent once more.
    const pool = this.r.pool;
    if (pool && tunnel.served > 0 && !this.#retried && this.#pace.received === 0 && this.body.done && !tunnel.partial) {
      this.#retried = true;
      this.tunnel = undefined;
      pool.release(tunnel, false);
      return pool.acquire((next) => {
        if (this.visitor.destroyed) return pool.release(next, true);
        this.#attach(next);
        next.socket.write(this.#head);
      });
    }
    const why = tunnel.describeEnd?.(error) ?? `tunnel ${this.r.routeId} ${describeTunnelError(error ?? { name: "Error", message: "closed", code: "ECONNRESET" })}`;
    this.fail(502, `petit: ${why}`, false);
  }

  /** The visitor went away: the tunnel connection is closed (its state is unknown). */
  abort(): void {
    this.release(false);
  }

  /** Applies the deadlines at `now`: 504 for a service slower than upstream_timeout, 408 for a body slower than the pace. */
  sweep(now: number): void {
    if (!this.tunnel) return;
    if (this.#deadline !== 0 && now >= this.#deadline && !this.#answer.started) {
      const seconds = this.context.upstreamTimeoutMs / 1000;
      return this.fail(504, `petit: tunnel ${this.r.routeId} is connected, but the service behind it sent no answer within ${seconds} s (server.upstream_timeout)`, false);
    }
    if (!this.body.done && this.#pace.stalled(now, this.context.pace, this.context.paceBytes)) {
      this.fail(408, stalledReason(this.context.pace), true);
    }
  }
}
