/**
 * A visitor's request body on its way to a tunnel, watched like nginx's
 * client_body_timeout with a minimum rate (as Kestrel's MinRequestBodyDataRate):
 * a body that sends less than `minRate` bytes a second over any
 * `timeoutMs` window (nothing at all, when minRate is 0) is cut, so a slow
 * uploader cannot hold a tunnel connection for ever. The windows are
 * checked by exchange.ts.
 * @module
 */
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

/** The one-line reason a visitor gets with the 408 for a stalled body. */
export function stalledReason(pace: BodyPace): string {
  const seconds = pace.timeoutMs / 1000;
  return pace.minRate === 0
    ? `petit: the request body sent nothing for ${seconds} s (server.body_timeout)`
    : `petit: the request body arrived slower than ${pace.minRate} bytes/s over ${seconds} s (server.body_timeout, server.body_min_rate)`;
}

/** Watches one body's pace, window by window (checked by the proxy's sweeper). */
export class PaceWatch {
  received = 0;
  /** The tunnel is not taking bytes (a slow service): the visitor is not the one to blame then. */
  held = false;
  #mark = 0;
  #end = 0;

  /** Starts watching at `now`. */
  start(now: number, pace: BodyPace): void {
    this.received = this.#mark = 0;
    this.held = false;
    this.#end = now + pace.timeoutMs;
  }

  /** Tells whether the window that ended by `now` brought fewer than `needed` bytes; starts the next window otherwise. */
  stalled(now: number, pace: BodyPace, needed: number): boolean {
    if (now < this.#end) return false;
    if (!this.held && this.received - this.#mark < needed) return true;
    this.#mark = this.received;
    this.#end = now + pace.timeoutMs;
    return false;
  }
}
