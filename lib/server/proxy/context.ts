/**
 * What every visitor connection of one proxy shares: its settings, the
 * pools of tunnel connections, the per-source shares, the body pace, the
 * request head parser's state, the head builder and the read buffer.
 * @module
 */
import { DEFAULT_BODY_MIN_RATE, DEFAULT_BODY_TIMEOUT, type BodyPace } from "./body.ts";
import { FairShare } from "./fair-share.ts";
import { HeadWriter } from "./head-writer.ts";
import { BodyCopies, READ_BYTES } from "./own-reads.ts";
import { RequestHead } from "./http1/request-head.ts";
import { TunnelPool } from "./tunnel-pool.ts";
import type { ProxyOptions } from "./types.ts";

/** Default `server.requests_per_source`: a quarter of a tunnel's pool, so at least three other visitors always get through. */
export const DEFAULT_REQUESTS_PER_SOURCE = 32;
/** Default `server.upstream_timeout`, in milliseconds. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 300_000;

/** A proxy's shared state. */
export interface ProxyContext {
  options: ProxyOptions;
  writer: HeadWriter;
  /**
   * The request head being read: one for all visitors, since a head is
   * parsed and acted on in one go (what outlives that is copied out), so an
   * idle connection holds no parser state.
   */
  head: RequestHead;
  pools: Map<number, TunnelPool>;
  shares: FairShare;
  pace: BodyPace;
  /** Bytes a body must bring in each pace window (at least 1). */
  paceBytes: number;
  upstreamTimeoutMs: number;
  /** Answered requests are timed (for metrics or the access log). */
  timed: boolean;
  /** The buffer every plain visitor connection reads into, and the reusable copies of body bytes that outlive a read (own-reads.ts). */
  reads: Buffer;
  copies: BodyCopies;
}

/** Tells whether `buf` is bytes of the shared read buffer, valid only until the read's handling ends. */
export function isSharedRead(context: ProxyContext, buf: Buffer): boolean {
  return buf.buffer === context.reads.buffer;
}

/** Creates the shared state of a proxy with `options`. */
export function createContext(options: ProxyOptions): ProxyContext {
  const pace = { timeoutMs: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT * 1000, minRate: options.bodyMinRate ?? DEFAULT_BODY_MIN_RATE };
  return {
    options, pace, writer: new HeadWriter(), head: new RequestHead(), pools: new Map(),
    shares: new FairShare(options.requestsPerSource ?? DEFAULT_REQUESTS_PER_SOURCE),
    paceBytes: Math.max(1, Math.floor((pace.minRate * pace.timeoutMs) / 1000)),
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
    timed: options.metrics !== undefined || options.onAnswered !== undefined,
    reads: Buffer.allocUnsafe(READ_BYTES), copies: new BodyCopies(),
  };
}

/** The pool of connections to the tunnel on `port`, made on first use. */
export function poolFor(context: ProxyContext, port: number): TunnelPool {
  let pool = context.pools.get(port);
  if (!pool) {
    pool = new TunnelPool(port);
    context.pools.set(port, pool);
  }
  return pool;
}
