/**
 * One request and its answer on a tunnel connection: the rewritten head and
 * the body go to the tunnel (the body's framing scanned, not decoded, and
 * paced: stalled bodies get 408), the service's answer comes back with its
 * head rewritten and its body copied as it arrives (SSE and long polls are
 * never held), and the connection goes back to the pool when both ends of
 * the exchange were framed well. No answer in time: 504; none at all: 502.
 * @module
 */
import type { Socket } from "node:net";
import type { ClientCounters } from "../metrics/metrics.ts";
import { describeTunnelError } from "./admit.ts";
import { textAnswer } from "./answers.ts";
import { stalledReason } from "./body.ts";
import type { ProxyContext } from "./context.ts";
import { writeResponseHead } from "./forward-head.ts";
import { ChunkScanner } from "./http1/chunked.ts";
import type { Framing } from "./http1/framing.ts";
import { parseResponseHead } from "./http1/response-head.ts";
import type { Tunnel, TunnelPool, TunnelUser } from "./tunnel-pool.ts";

/** How a response body is delimited (RFC 9112 §6.3). */
const enum Body { None, Length, Chunked, UntilClose }

/** The visitor's side of an exchange: told when it is over, or when a 101 made it a byte pipe. */
export interface ExchangeOwner {
  /** The exchange is over with `status`; `close`: the visitor's connection must close after what was written. */
  finished(status: number, close: boolean): void;
  /** The service answered 101: `socket` is now a raw pipe; `rest` came after its head. */
  upgraded(socket: Socket, rest: Buffer): void;
}

/** What one request needs besides its bytes. */
export interface ExchangeRequest {
  pool: TunnelPool | undefined;
  routeId: number;
  counters: ClientCounters | undefined;
  isHead: boolean;
  upgrade: boolean;
  /** The visitor's HTTP minor version, and whether it asked to close after this request. */
  minor: number;
  close: boolean;
}

/** The exchanges of one visitor connection, one at a time. */
export class Exchange implements TunnelUser {
  tunnel: Tunnel | undefined;
  #r!: ExchangeRequest;
  #head!: Buffer;
  #retried = false;
  // The request body.
  #bodyDone = true;
  #bodyChunked = false;
  #bodyLeft = 0;
  readonly #bodyChunks = new ChunkScanner();
  #received = 0;
  #mark = 0;
  #paceEnd = 0;
  #held = false;
  /** When the service must have begun its answer (0: not waiting). */
  #deadline = 0;
  // The response.
  #status = 0;
  #started = false;
  #mode = Body.None;
  #left = 0;
  #decode = false;
  #close = false;
  #reusable = false;

  constructor(private readonly visitor: Socket, private readonly context: ProxyContext, private readonly owner: ExchangeOwner) {}

  /** Tells whether the visitor is still sending the request body. */
  get sendingBody(): boolean {
    return this.tunnel !== undefined && !this.#bodyDone;
  }

  /**
   * Sends `head` and the body bytes at buf[at…] through `tunnel`. Returns
   * where the request ended in `buf` (bytes after it are the visitor's next
   * request), or -1 while the body goes on (feed() takes the rest).
   */
  begin(tunnel: Tunnel, request: ExchangeRequest, head: Buffer, framing: Framing, buf: Buffer, at: number): number {
    this.#r = request;
    this.#head = head;
    this.#retried = false;
    this.#status = 0;
    this.#started = false;
    this.#bodyChunked = framing.chunked;
    this.#bodyLeft = framing.chunked ? 0 : Math.max(0, framing.contentLength);
    this.#bodyDone = !framing.chunked && this.#bodyLeft === 0;
    this.#received = this.#mark = 0;
    this.#held = false;
    this.#attach(tunnel);
    if (this.#bodyDone) {
      tunnel.socket.write(head);
      this.#deadline = Date.now() + this.context.upstreamTimeoutMs;
      return at;
    }
    if (framing.chunked) this.#bodyChunks.reset();
    this.#paceEnd = Date.now() + this.context.pace.timeoutMs;
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
    if (!tunnel || this.#bodyDone) return at;
    let stop: number;
    let done: boolean;
    if (this.#bodyChunked) {
      try {
        const end = this.#bodyChunks.scan(buf, at, buf.length);
        stop = end < 0 ? buf.length : end;
        done = end >= 0;
      } catch (error) {
        this.#fail(400, `petit: malformed request body (${(error as Error).message})`, true);
        return -1;
      }
    } else {
      stop = Math.min(buf.length, at + this.#bodyLeft);
      this.#bodyLeft -= stop - at;
      done = this.#bodyLeft === 0;
    }
    if (stop > at) {
      this.#received += stop - at;
      if (this.#r.counters) this.#r.counters.bytesIn += stop - at;
      if (!tunnel.socket.write(at === 0 && stop === buf.length ? buf : buf.subarray(at, stop))) {
        this.#held = true;
        this.visitor.pause();
      }
    }
    if (!done) return -1;
    this.#bodyDone = true;
    if (!this.#started) this.#deadline = Date.now() + this.context.upstreamTimeoutMs;
    return stop;
  }

  onTunnelDrain(): void {
    if (!this.#held) return;
    this.#held = false;
    this.visitor.resume();
  }

  /** The visitor's socket drained: the tunnel may send again. */
  onVisitorDrain(): void {
    if (this.tunnel?.socket.isPaused()) this.tunnel.socket.resume();
  }

  onTunnelData(tunnel: Tunnel, chunk: Buffer): void {
    if (tunnel !== this.tunnel) return;
    this.#read(tunnel, chunk);
    // The chunk lives in the tunnel's read buffer: a write the visitor's socket queued still points into it.
    if (tunnel.partial !== undefined || this.visitor.writableLength > 0) tunnel.retained = true;
  }

  #read(tunnel: Tunnel, chunk: Buffer): void {
    if (this.#started) return this.#body(chunk, 0);
    const buf = tunnel.partial ? Buffer.concat([tunnel.partial, chunk]) : chunk;
    tunnel.partial = undefined;
    let pos = 0;
    for (;;) {
      let end: number;
      try {
        end = parseResponseHead(buf, pos, buf.length, tunnel.head);
      } catch (error) {
        return this.#fail(502, `petit: tunnel ${this.#r.routeId} sent a malformed answer (${(error as Error).message})`, true);
      }
      if (end < 0) return void (tunnel.partial = Buffer.from(buf.subarray(pos)));
      const status = tunnel.head.status;
      if (status === 101) {
        if (!this.#r.upgrade) return this.#fail(502, `petit: tunnel ${this.#r.routeId} answered 101 to a request for no upgrade`, true);
        return this.#upgraded(tunnel, buf, end);
      }
      if (status >= 200) return this.#respond(tunnel, buf, end);
      // 1xx: petit answered Expect itself, so a 100 is dropped; others (103 Early Hints) go on to an HTTP/1.1 visitor.
      if (status !== 100 && this.#r.minor === 1) this.visitor.write(buf.subarray(pos, end));
      pos = end;
    }
  }

  #respond(tunnel: Tunnel, buf: Buffer, bodyStart: number): void {
    const { head } = tunnel;
    const { framing } = head;
    this.#deadline = 0;
    this.#status = head.status;
    const noBody = this.#r.isHead || head.status === 204 || head.status === 304;
    this.#mode = noBody ? Body.None : framing.chunked ? Body.Chunked
      : framing.otherCoding || framing.contentLength < 0 ? Body.UntilClose : Body.Length;
    this.#left = framing.contentLength;
    this.#decode = this.#mode === Body.Chunked && this.#r.minor === 0;
    this.#close = this.#r.close || this.#r.upgrade || this.#mode === Body.UntilClose || this.#decode || !this.#bodyDone;
    this.#reusable = this.#mode !== Body.UntilClose && !framing.close && (head.minor === 1 || framing.keepAlive);
    let end = bodyStart;
    let complete = this.#mode === Body.None;
    try {
      if (this.#mode === Body.Length) {
        end = Math.min(buf.length, bodyStart + this.#left);
        this.#left -= end - bodyStart;
        complete = this.#left === 0;
      } else if (this.#mode === Body.Chunked && !this.#decode) {
        tunnel.chunks.reset();
        const e = tunnel.chunks.scan(buf, bodyStart, buf.length);
        end = e < 0 ? buf.length : e;
        complete = e >= 0;
      } else if (this.#mode === Body.UntilClose) end = buf.length;
    } catch (error) {
      return this.#fail(502, `petit: tunnel ${this.#r.routeId} sent a malformed answer (${(error as Error).message})`, true);
    }
    if (end < buf.length && (complete || this.#mode === Body.None)) this.#reusable = false;
    const out = { chunked: this.#mode === Body.Chunked && !this.#decode, close: this.#close, upgraded: false };
    const [bytes, carried] = writeResponseHead(this.context.writer, buf, head, out, bodyStart, end);
    this.#started = true;
    let ok = this.visitor.write(bytes);
    if (carried < end - bodyStart) ok = this.visitor.write(buf.subarray(bodyStart + carried, end));
    if (this.#r.counters) this.#r.counters.bytesOut += end - bodyStart;
    if (this.#decode) {
      tunnel.chunks.reset();
      return this.#body(buf, bodyStart);
    }
    if (complete) return this.#complete();
    if (!ok) tunnel.socket.pause();
  }

  #body(buf: Buffer, start: number): void {
    let end = buf.length;
    let complete = false;
    if (this.#mode === Body.Length) {
      end = Math.min(buf.length, start + this.#left);
      this.#left -= end - start;
      complete = this.#left === 0;
    } else if (this.#mode === Body.Chunked) {
      try {
        const e = this.tunnel!.chunks.scan(buf, start, buf.length, this.#decode ? this.#writeData : undefined);
        if (e >= 0) [end, complete] = [e, true];
      } catch {
        return this.#broken();
      }
    }
    if (end < buf.length) this.#reusable = false;
    if (end > start && !this.#decode) {
      if (this.#r.counters) this.#r.counters.bytesOut += end - start;
      if (!this.visitor.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end))) this.tunnel!.socket.pause();
    }
    if (complete) this.#complete();
    else if (this.#decode && this.visitor.writableNeedDrain) this.tunnel!.socket.pause();
  }

  readonly #writeData = (buf: Buffer, start: number, end: number): void => {
    if (this.#r.counters) this.#r.counters.bytesOut += end - start;
    this.visitor.write(buf.subarray(start, end));
  };

  #complete(): void {
    this.#release(this.#bodyDone && this.#reusable);
    this.owner.finished(this.#status, this.#close);
  }

  #release(reusable: boolean): void {
    const tunnel = this.tunnel;
    if (!tunnel) return;
    this.tunnel = undefined;
    this.#deadline = 0;
    if (this.#r.pool) this.#r.pool.release(tunnel, reusable);
    else tunnel.socket.destroy();
  }

  /** Ends the exchange with petit's own answer, or cuts the visitor when the service's answer had begun. */
  #fail(status: number, line: string, close: boolean): void {
    this.#release(false);
    if (this.#started) return this.#broken();
    const closing = close || !this.#bodyDone || this.#r.close;
    this.visitor.write(textAnswer(status, line, undefined, closing));
    this.owner.finished(status, closing);
  }

  /** The answer broke off after it had begun: the visitor cannot be told otherwise than by a cut. */
  #broken(): void {
    this.#release(false);
    this.visitor.destroy();
    this.owner.finished(this.#status, true);
  }

  #upgraded(tunnel: Tunnel, buf: Buffer, end: number): void {
    this.tunnel = undefined;
    const [bytes] = writeResponseHead(this.context.writer, buf, tunnel.head, { chunked: false, close: false, upgraded: true }, end, end);
    this.visitor.write(bytes);
    this.owner.upgraded(tunnel.detach(), buf.subarray(end));
  }

  onTunnelEnd(tunnel: Tunnel, error: NodeJS.ErrnoException | undefined): void {
    if (tunnel !== this.tunnel) return;
    if (this.#started) return this.#mode === Body.UntilClose ? this.#complete() : this.#broken();
    // A reused connection the service closed just as it was taken: a request without a body is sent once more.
    if (tunnel.served > 0 && !this.#retried && this.#received === 0 && this.#bodyDone && this.#r.pool && !tunnel.partial) {
      this.#retried = true;
      this.tunnel = undefined;
      this.#r.pool.release(tunnel, false);
      return this.#r.pool.acquire((next) => {
        if (this.visitor.destroyed) return this.#r.pool!.release(next, true);
        this.#attach(next);
        next.socket.write(this.#head);
      });
    }
    this.#fail(502, `petit: tunnel ${this.#r.routeId} ${describeTunnelError(error ?? { name: "Error", message: "closed", code: "ECONNRESET" })}`, false);
  }

  /** The visitor went away: the tunnel connection is closed (its state is unknown). */
  abort(): void {
    this.#release(false);
  }

  /** Applies the deadlines at `now`: 504 for a service slower than upstream_timeout, 408 for a body slower than the pace. */
  sweep(now: number): void {
    if (!this.tunnel) return;
    if (this.#deadline !== 0 && now >= this.#deadline && !this.#started) {
      const seconds = this.context.upstreamTimeoutMs / 1000;
      return this.#fail(504, `petit: tunnel ${this.#r.routeId} is connected, but the service behind it sent no answer within ${seconds} s (server.upstream_timeout)`, false);
    }
    if (this.#bodyDone || now < this.#paceEnd) return;
    // While the tunnel is not taking bytes (a slow service), the visitor is not the one to blame.
    if (!this.#held && this.#received - this.#mark < this.context.paceBytes) return this.#fail(408, stalledReason(this.context.pace), true);
    this.#mark = this.#received;
    this.#paceEnd = now + this.context.pace.timeoutMs;
  }
}
