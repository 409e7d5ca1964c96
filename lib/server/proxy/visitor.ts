/**
 * One visitor connection: request heads read one at a time (pipelined ones
 * wait their turn), each admitted afresh (its Host, its token: a keep-alive
 * connection may name another tunnel, or none, on its next request),
 * refused in one line or sent by an Exchange through its tunnel, or to the
 * relay holding it (forward-to-peer.ts); CONNECT and accepted Upgrades turn
 * the connection into a byte pipe.
 * @module
 */
import type { Socket } from "node:net";
import { countPipe } from "../metrics/metrics.ts";
import { clientAddress } from "../../http/client-address.ts";
import { admit } from "./admit.ts";
import { malformedAnswer, pageAnswer, textAnswer } from "./answers.ts";
import { isSharedRead, poolFor, type ProxyContext } from "./context.ts";
import { Exchange, type ExchangeOwner, type ExchangeRequest } from "./exchange.ts";
import { writeRequestHead } from "./forward-head.ts";
import { oneHopRefusal, PeerLinks } from "./forward-to-peer.ts";
import { acceptFromPeer } from "./from-peer.ts";
import { HeadError } from "./http1/head-error.ts";
import { parseRequestHead } from "./http1/request-head.ts";
import { ownCopy } from "./own-reads.ts";
import { joinSockets } from "./pipe.ts";
import { connectThroughTunnel } from "./raw.ts";
import { readRequest } from "./read-request.ts";
import { RequestSlot } from "./request-slot.ts";
import { isPetitPath } from "./sign-in/petit-pages.ts";
import { servePetitPath } from "./sign-in/serve.ts";
import { toOriginForm } from "./request-target.ts";
import { openTunnel, type Tunnel } from "./tunnel-pool.ts";
import type { Refusal } from "./visitor-auth.ts";

/** How long a whole request head may take to arrive, and a keep-alive connection may idle (node's defaults: 20 s, 60 s here). */
export const HEAD_TIMEOUT_MS = 20_000;
export const KEEP_ALIVE_MS = 60_000;
/** How long a closing connection may take to drain before it is cut. */
const LINGER_MS = 5_000;
/** Bytes of pipelined requests held while one is answered; beyond, reading pauses. */
const MAX_PENDING = 64 * 1024;

const enum State { Head, Busy, Pipe, Closing, Closed }

/** A visitor's connection to the proxy. */
export class Visitor implements ExchangeOwner {
  #state = State.Head;
  #pending: Buffer | undefined;
  #deadline = Date.now() + HEAD_TIMEOUT_MS;
  #peerEnded = false;
  readonly #exchange: Exchange;
  readonly #slot: RequestSlot;
  #routeId = 0;
  /** Connections to the relays holding tunnels this connection's requests named (forward-to-peer.ts). */
  #peers: PeerLinks | undefined;
  /** The request under way goes to another relay. */
  #toHolder = false;
  /** No request head read yet: only now may another relay's signed line come (from-peer.ts). */
  #fresh = true;

  /** The proxy reads the socket itself, into its shared buffer (own-reads.ts), and calls read(); else a stream's "data" does. */
  readonly #ownReads: boolean;
  /** Where the visitor's bytes go once the connection is a pipe (own reads only). */
  #pipeTo: Socket | undefined;

  constructor(readonly socket: Socket, private readonly context: ProxyContext, private readonly onClosed: (v: Visitor) => void, ownReads = false) {
    this.#exchange = new Exchange(socket, context, this);
    this.#slot = new RequestSlot(context);
    this.#ownReads = ownReads;
    if (!ownReads) socket.on("data", this.#onData);
    socket.on("drain", () => this.#exchange.onVisitorDrain());
    socket.on("error", () => socket.destroy());
    socket.on("end", () => this.#onEnd());
    socket.on("close", () => this.#onClose());
  }

  /** Handles one read of the shared buffer: what must outlive it is copied out before the next read overwrites it. */
  read(chunk: Buffer): void {
    if (this.#state === State.Pipe) {
      if (!this.#pipeTo) return void this.socket.emit("data", ownCopy(chunk)); // for whoever took the connection over
      if (!this.#pipeTo.write(ownCopy(chunk))) this.socket.pause();
      return;
    }
    this.#onData(chunk);
    if (this.#pending !== undefined && isSharedRead(this.context, this.#pending)) this.#pending = ownCopy(this.#pending);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#state === State.Head) {
      if (this.#pending === undefined) this.#deadline = Date.now() + HEAD_TIMEOUT_MS;
      this.#pending = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
      return this.#readHeads();
    }
    if (this.#state !== State.Busy) return;
    if (this.#exchange.sendingBody) {
      const end = this.#exchange.feed(chunk, 0);
      if (end < 0 || end === chunk.length) return;
      chunk = chunk.subarray(end);
    }
    this.#pending = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    if (this.#pending.length > MAX_PENDING) this.socket.pause();
  };

  #readHeads(): void {
    while (this.#state === State.Head && this.#pending !== undefined) {
      const buf = this.#pending;
      let end: number;
      try {
        end = parseRequestHead(buf, 0, buf.length, this.context.head);
      } catch (error) {
        if (!(error instanceof HeadError)) throw error;
        const line = this.#fresh ? acceptFromPeer(buf, this.socket, this.context.options) : undefined;
        if (line === undefined) return this.#close(malformedAnswer(error));
        if (typeof line !== "number") return this.#refuse(line, true);
        if (line === 0) return;
        this.#fresh = false;
        this.#pending = line < buf.length ? buf.subarray(line) : undefined;
        continue;
      }
      if (end < 0) return;
      this.#pending = end < buf.length ? buf.subarray(end) : undefined;
      this.#onHead(buf, end);
    }
    if (this.#state === State.Head && this.#pending === undefined) this.#deadline = Date.now() + KEEP_ALIVE_MS;
  }

  /** Routes the request whose head is buf[0…end]. */
  #onHead(buf: Buffer, end: number): void {
    const head = this.context.head;
    const { options } = this.context;
    const req = readRequest(buf, head, this.socket);
    this.#fresh = false;
    if (req.method === "CONNECT") {
      this.#toPipe();
      return connectThroughTunnel(req, this.socket, this.#takePending(), options, this.#own(buf), this.#forward);
    }
    this.#slot.open(req);
    const { framing } = head;
    const hasBody = framing.chunked || framing.contentLength > 0;
    const upgrade = framing.upgrade && req.headers.upgrade !== undefined;
    const refused = toOriginForm(req)
      ?? (upgrade && hasBody ? { status: 400, reason: "an Upgrade request must not carry a body" } : undefined);
    // /.petit/ is the relay's own, on every tunnel's host: the sign-in pages take the connection over.
    if (refused === undefined && options.signIn && isPetitPath(req.url)) {
      this.#toPipe();
      const done = (status: number) => this.#slot.close(status);
      return servePetitPath(req, head, buf, { socket: this.socket, pending: this.#takePending(), options, signIn: options.signIn, done });
    }
    const route = refused ?? admit(req, options, req.headers.host);
    if ("reason" in route) return this.#refuse(route, hasBody || upgrade || framing.close || head.minor === 0);
    if (route.peer !== undefined) {
      const refusal = oneHopRefusal(route, this.socket);
      if (refusal) return this.#refuse(refusal, true);
    }
    // To another relay (peer), the head goes as the visitor sent it: the holder admits it again.
    const out = route.peer ? this.#own(buf.subarray(0, end)) : writeRequestHead(this.context.writer, buf, head, req, options, upgrade);
    if (hasBody && head.minor === 1 && req.headers.expect?.toLowerCase() === "100-continue") this.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
    this.#state = State.Busy;
    this.#deadline = 0;
    this.#routeId = route.id;
    this.#toHolder = route.peer !== undefined;
    const source = clientAddress(req, options.trustedProxies);
    const request: ExchangeRequest = {
      pool: route.peer ? (this.#peers ??= new PeerLinks(options)).to(route, source) : upgrade ? undefined : poolFor(this.context, route.port),
      routeId: route.id, counters: undefined,
      isHead: req.method === "HEAD", upgrade, minor: head.minor, close: framing.close || head.minor === 0 || this.#peerEnded,
      chunked: framing.chunked, contentLength: framing.contentLength,
    };
    if (route.peer) {
      // The holder answers, counts, times and logs the request.
      this.#slot.drop();
      return request.pool!.acquire((tunnel) => this.#begin(tunnel, request, out));
    }
    if (upgrade) return void this.#begin(openTunnel(route.port), request, out);
    request.counters = this.#slot.count(route.id);
    this.#slot.share(`${route.port} ${source}`, () => {
      if (this.#state === State.Closed) return this.#slot.close(502);
      request.pool!.acquire((tunnel) => this.#begin(tunnel, request, out));
    });
  }

  #begin(tunnel: Tunnel, request: ExchangeRequest, out: Buffer): void {
    if (this.#state === State.Closed) return request.pool ? request.pool.release(tunnel, true) : void tunnel.socket.destroy();
    const buf = this.#pending ?? Buffer.alloc(0);
    if (this.socket.isPaused()) this.socket.resume();
    const end = this.#exchange.begin(tunnel, request, out, buf, 0);
    this.#pending = end >= 0 && end < buf.length ? buf.subarray(end) : undefined;
  }

  #refuse(refusal: Refusal, close: boolean): void {
    const closing = close || this.#peerEnded;
    const answer = refusal.html === undefined
      ? textAnswer(refusal.status, `petit: ${refusal.reason}`, refusal.headers, closing)
      : pageAnswer(refusal.status, refusal.html, refusal.headers, closing, refusal.omitBody);
    this.#slot.close(refusal.status);
    if (closing) return this.#close(answer);
    this.socket.write(answer);
  }

  finished(status: number, close: boolean): void {
    this.#slot.close(status);
    if (this.#state !== State.Busy) return;
    if (close || this.#peerEnded) return this.#close("");
    this.#state = State.Head;
    if (this.socket.isPaused()) this.socket.resume();
    this.#readHeads();
  }

  upgraded(tunnel: Socket, rest: Buffer): void {
    this.#slot.close(101);
    this.#toPipe();
    tunnel.setNoDelay(true);
    if (rest.length) this.socket.write(rest);
    // Bytes the visitor sent after its handshake belong to the new protocol now, and go on only now.
    const pending = this.#takePending();
    if (pending.length) tunnel.write(pending);
    // A pipe to another relay is counted there, by the holder.
    if (!this.#toHolder) countPipe(this.context.options.metrics, this.#routeId, tunnel);
    joinSockets(this.socket, tunnel, this.#forward);
  }

  /** Starts the visitor's bytes flowing into a pipe's `tunnel`: a stream pipe, or read() writing them on. */
  readonly #forward = (tunnel: Socket): void => {
    if (!this.#ownReads) return void this.socket.pipe(tunnel);
    this.#pipeTo = tunnel;
    tunnel.on("drain", () => this.socket.resume());
    this.socket.once("end", () => tunnel.end());
    this.socket.resume();
  };

  /** The bytes read past the last request, owned (a view of the shared read buffer is copied). */
  #takePending(): Buffer {
    const pending = this.#pending ?? Buffer.alloc(0);
    this.#pending = undefined;
    return this.#own(pending);
  }

  /** `buf`, or a copy of it when it is a view of the shared read buffer (which the next read overwrites). */
  #own(buf: Buffer): Buffer {
    return isSharedRead(this.context, buf) ? ownCopy(buf) : buf;
  }

  /** The connection becomes a byte pipe: reading waits until the pipe is joined. */
  #toPipe(): void {
    this.#state = State.Pipe;
    this.#deadline = 0;
    this.socket.removeListener("data", this.#onData);
    this.socket.pause();
  }

  /** Writes `last` (may be empty), ends the connection, and cuts it if it has not closed LINGER_MS later. */
  #close(last: string): void {
    this.#state = State.Closing;
    this.#pending = undefined;
    this.#deadline = Date.now() + LINGER_MS;
    this.socket.end(last);
  }

  #onEnd(): void {
    this.#peerEnded = true;
    if (this.#state === State.Head || this.#state === State.Closing) this.socket.end();
  }

  #onClose(): void {
    const wasBusy = this.#state === State.Busy;
    this.#state = State.Closed;
    this.#peers?.close();
    if (wasBusy) {
      this.#exchange.abort();
      this.#slot.close(502);
    }
    this.onClosed(this);
  }

  /** Applies the deadlines at `now`: the head and keep-alive timeouts here, the exchange's own in it. */
  sweep(now: number): void {
    if (this.#state === State.Busy) return this.#exchange.sweep(now);
    if (this.#deadline === 0 || now < this.#deadline) return;
    if (this.#state === State.Head && this.#pending !== undefined) {
      return this.#close(textAnswer(408, `petit: the request head did not arrive within ${HEAD_TIMEOUT_MS / 1000} s`, undefined, true));
    }
    this.socket.destroy();
  }

  /** Closes the connection at once (the proxy is shutting down). */
  destroy(): void {
    this.socket.destroy();
  }
}
