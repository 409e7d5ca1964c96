/**
 * The service's answer on its way back to the visitor: its head parsed and
 * rewritten (1xx passed on, a 100 dropped, a 101 turning the connection
 * into a pipe), its body copied as it arrives (server-sent events and long
 * polls are never held), delimited by its own framing, and passed on
 * chunked, or decoded for a visitor on HTTP/1.0.
 * @module
 */
import type { Socket } from "node:net";
import type { ClientCounters } from "../metrics/metrics.ts";
import type { ProxyContext } from "./context.ts";
import { writeResponseHead } from "./forward-head.ts";
import { BodyFraming, Delimit } from "./http1/body-framing.ts";
import { parseResponseHead } from "./http1/response-head.ts";
import type { Tunnel } from "./tunnel-pool.ts";

/** The exchange an answer belongs to (exchange.ts), as the answer sees it. */
export interface AnswerOwner {
  readonly visitor: Socket;
  readonly context: ProxyContext;
  readonly r: { routeId: number; counters: ClientCounters | undefined; isHead: boolean; upgrade: boolean; minor: number; close: boolean };
  /** The request body: the tunnel may be reused only once it was all sent. */
  readonly body: { done: boolean };
  readonly owner: { upgraded(socket: Socket, rest: Buffer): void };
  tunnel: Tunnel | undefined;
  answered(): void;
  complete(status: number, reusable: boolean, close: boolean): void;
  fail(status: number, line: string, close: boolean): void;
  broken(): void;
}

/** One answer at a time of one exchange. */
export class Answer {
  status = 0;
  /** Its head has gone to the visitor. */
  started = false;
  readonly #body = new BodyFraming();
  #decode = false;
  #close = false;
  #reusable = false;

  constructor(private readonly x: AnswerOwner) {}

  /** Readies it for the next request's answer. */
  reset(): void {
    this.status = 0;
    this.started = false;
  }

  /** Takes bytes from the tunnel. */
  read(tunnel: Tunnel, chunk: Buffer): void {
    if (this.started) return this.#take(chunk, 0);
    const buf = tunnel.partial ? Buffer.concat([tunnel.partial, chunk]) : chunk;
    tunnel.partial = undefined;
    const { r } = this.x;
    let pos = 0;
    for (;;) {
      let end: number;
      try {
        end = parseResponseHead(buf, pos, buf.length, tunnel.head);
      } catch (error) {
        return this.x.fail(502, `petit: tunnel ${r.routeId} sent a malformed answer (${(error as Error).message})`, true);
      }
      if (end < 0) return void (tunnel.partial = Buffer.from(buf.subarray(pos)));
      const status = tunnel.head.status;
      if (status === 101) {
        if (!r.upgrade) return this.x.fail(502, `petit: tunnel ${r.routeId} answered 101 to a request for no upgrade`, true);
        return this.#upgraded(tunnel, buf, end);
      }
      if (status >= 200) return this.#respond(tunnel, buf, end);
      // 1xx: petit answered Expect itself, so a 100 is dropped; others (103 Early Hints) go on to an HTTP/1.1 visitor.
      if (status !== 100 && r.minor === 1) this.x.visitor.write(buf.subarray(pos, end));
      pos = end;
    }
  }

  #respond(tunnel: Tunnel, buf: Buffer, bodyStart: number): void {
    const { head } = tunnel;
    const { framing } = head;
    const { r, visitor } = this.x;
    this.x.answered();
    this.status = head.status;
    const noBody = r.isHead || head.status === 204 || head.status === 304;
    const delimit = noBody ? Delimit.None : framing.chunked ? Delimit.Chunked
      : framing.otherCoding || framing.contentLength < 0 ? Delimit.UntilClose : Delimit.Length;
    this.#body.start(delimit, framing.contentLength);
    this.#decode = delimit === Delimit.Chunked && r.minor === 0;
    this.#close = r.close || r.upgrade || delimit === Delimit.UntilClose || this.#decode || !this.x.body.done;
    this.#reusable = delimit !== Delimit.UntilClose && !framing.close && (head.minor === 1 || framing.keepAlive);
    let end = bodyStart;
    if (!this.#decode) {
      try {
        end = this.#body.take(buf, bodyStart);
      } catch (error) {
        return this.x.fail(502, `petit: tunnel ${r.routeId} sent a malformed answer (${(error as Error).message})`, true);
      }
    }
    if (end < buf.length && this.#body.done) this.#reusable = false;
    const out = { chunked: delimit === Delimit.Chunked && !this.#decode, close: this.#close, upgraded: false };
    const [bytes, carried] = writeResponseHead(this.x.context.writer, buf, head, out, bodyStart, end);
    this.started = true;
    let ok = visitor.write(bytes);
    if (carried < end - bodyStart) ok = visitor.write(buf.subarray(bodyStart + carried, end));
    if (r.counters) r.counters.bytesOut += end - bodyStart;
    if (this.#decode) return this.#take(buf, bodyStart);
    if (this.#body.done) return this.x.complete(this.status, this.#reusable, this.#close);
    if (!ok) tunnel.socket.pause();
  }

  #take(buf: Buffer, start: number): void {
    let end: number;
    try {
      end = this.#body.take(buf, start, this.#decode ? this.#writeData : undefined);
    } catch {
      return this.x.broken();
    }
    if (end < buf.length) this.#reusable = false;
    if (end > start && !this.#decode) {
      if (this.x.r.counters) this.x.r.counters.bytesOut += end - start;
      if (!this.x.visitor.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end))) this.x.tunnel?.socket.pause();
    }
    if (this.#body.done) this.x.complete(this.status, this.#reusable, this.#close);
    else if (this.#decode && this.x.visitor.writableNeedDrain) this.x.tunnel?.socket.pause();
  }

  readonly #writeData = (buf: Buffer, start: number, end: number): void => {
    if (this.x.r.counters) this.x.r.counters.bytesOut += end - start;
    this.x.visitor.write(buf.subarray(start, end));
  };

  #upgraded(tunnel: Tunnel, buf: Buffer, end: number): void {
    this.x.tunnel = undefined;
    const [bytes] = writeResponseHead(this.x.context.writer, buf, tunnel.head, { chunked: false, close: false, upgraded: true }, end, end);
    this.x.visitor.write(bytes);
    this.x.owner.upgraded(tunnel.detach(), buf.subarray(end));
  }

  /** The tunnel closed after the answer began: its end, for a body delimited so; else a cut. */
  ended(): void {
    if (this.#body.delimit === Delimit.UntilClose) this.x.complete(this.status, false, this.#close);
    else this.x.broken();
  }
}
