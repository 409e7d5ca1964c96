/**
 * A visitor's request body on its way to a tunnel, watched like nginx's
 * client_body_timeout with a minimum rate (as Kestrel's MinRequestBodyDataRate):
 * a body that sends less than `minRate` bytes a second over any
 * `timeoutMs` window (nothing at all, when minRate is 0) is cut, so a slow
 * uploader cannot hold a tunnel connection for ever.
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { ClientCounters } from "../metrics/metrics.ts";

/** How fast a request body must arrive. */
export interface BodyPace {
  /** The window, in milliseconds. */
  timeoutMs: number;
  /** Bytes per second a body must average over each window; 0: only a window with no byte at all is too slow. */
  minRate: number;
}

/** Default `server.body_timeout`, in seconds (nginx's client_body_timeout is 60). */
export const DEFAULT_BODY_TIMEOUT = 60;
/** Default `server.body_min_rate`, in bytes per second (Kestrel's minimum request body rate is 240). */
export const DEFAULT_BODY_MIN_RATE = 240;

/**
 * Yields `req`'s body chunks, counting them into `counters`; calls
 * `onStall` (once) when a window passes with too few bytes. The caller
 * aborts the upstream request then.
 */
export async function* pacedBody(
  req: IncomingMessage, pace: BodyPace, counters: ClientCounters | undefined, onStall: () => void,
): AsyncGenerator<Buffer> {
  const needed = Math.max(1, Math.floor((pace.minRate * pace.timeoutMs) / 1000));
  let received = 0;
  let mark = 0;
  let held = false;
  const timer = setTimeout(function check() {
    // While the tunnel is not taking bytes (a slow service), the visitor is not the one to blame.
    if (!held && received - mark < needed) return onStall();
    mark = received;
    timer.refresh();
  }, pace.timeoutMs);
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (counters) counters.bytesIn += chunk.length;
      held = true;
      yield chunk;
      held = false;
    }
  } finally {
    clearTimeout(timer);
  }
}

/** The one-line reason a visitor gets with the 408 for a stalled body. */
export function stalledReason(pace: BodyPace): string {
  const seconds = pace.timeoutMs / 1000;
  return pace.minRate === 0
    ? `petit: the request body sent nothing for ${seconds} s (server.body_timeout)`
    : `petit: the request body arrived slower than ${pace.minRate} bytes/s over ${seconds} s (server.body_timeout, server.body_min_rate)`;
}
