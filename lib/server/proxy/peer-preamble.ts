/**
 * The line a relay sends first on a connection it forwards to the relay
 * holding a tunnel (forward-to-peer.ts): which relay sends it, the visitor
 * it forwards, when, a nonce, and an HMAC-SHA256 of all that under the node
 * secret the relays share through their store. The secret itself never
 * travels; a line seen on the wire names one visitor for one minute and is
 * refused when replayed.
 *
 *     PETIT-NODE/1 <from node> <visitor address> <unix ms> <nonce, 32 hex> <hmac, 64 hex>\r\n
 *
 * "/" is not a token character: no HTTP request-line starts like this, so
 * the proxy's head parser refuses it at once and only then is it looked at.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/** What the line starts with (and its version: a relay refuses a version it does not know). */
export const PREAMBLE_PREFIX = "PETIT-NODE/1 ";
/** The longest line accepted, CRLF included: node names are HOST:PORT, the rest is fixed size. */
export const MAX_PREAMBLE_BYTES = 512;
/** How far a line's time may be from the receiver's clock (petit doctor warns of skew beyond 30 s). */
export const PREAMBLE_WINDOW_MS = 60_000;

const PREFIX = Buffer.from(PREAMBLE_PREFIX, "latin1");
/** A node name as petit writes it (server.node_address or host:port); anchored, the whole field. */
const NODE_NAME = /^[A-Za-z0-9._:[\]-]{1,255}$/;

/** Returns the line that forwards `visitor` from relay `from`, signed with `secret`. */
export function signPreamble(secret: string, from: string, visitor: string, now = Date.now()): Buffer {
  const fields = `${from} ${visitor} ${now} ${randomBytes(16).toString("hex")}`;
  return Buffer.from(`${PREAMBLE_PREFIX}${fields} ${mac(secret, fields)}\r\n`, "latin1");
}

/** A verified line: who sent it, the visitor it names, and how many bytes it took. */
export interface Preamble {
  from: string;
  visitor: string;
  length: number;
}

/**
 * Reads the line at the start of `buf`, written by another machine (so read
 * anchored and whole): undefined when `buf` does not start like one, "more"
 * when it is not whole yet, a reason when it is refused, else the line.
 */
export function verifyPreamble(
  buf: Buffer, secret: string, seen: NonceMemory, now = Date.now(),
): Preamble | "more" | { refused: string } | undefined {
  const head = Math.min(buf.length, PREFIX.length);
  if (buf.compare(PREFIX, 0, head, 0, head) !== 0) return undefined;
  const lf = buf.indexOf(10, 0);
  if (lf < 0) return buf.length < MAX_PREAMBLE_BYTES ? "more" : { refused: `the line is longer than ${MAX_PREAMBLE_BYTES} bytes` };
  if (lf + 1 > MAX_PREAMBLE_BYTES || buf[lf - 1] !== 13) return { refused: "the line must end with CRLF within 512 bytes" };
  const parts = buf.toString("latin1", PREFIX.length, lf - 1).split(" ");
  if (parts.length !== 5) return { refused: "the line must have 5 fields" };
  const [from, visitor, time, nonce, sig] = parts;
  if (!NODE_NAME.test(from) || isIP(visitor) === 0 || !/^\d{1,15}$/.test(time) || !/^[0-9a-f]{32}$/.test(nonce) || !/^[0-9a-f]{64}$/.test(sig)) {
    return { refused: "a field is malformed" };
  }
  const expected = Buffer.from(mac(secret, `${from} ${visitor} ${time} ${nonce}`), "latin1");
  if (!timingSafeEqual(expected, Buffer.from(sig, "latin1"))) return { refused: "the signature does not match the store's node secret" };
  const skew = Math.abs(now - Number(time));
  if (skew > PREAMBLE_WINDOW_MS) return { refused: `the line is ${Math.round(skew / 1000)} s old or ahead (are the relays' clocks synchronized?)` };
  if (!seen.claim(nonce, now)) return { refused: "the line was used before (a replay)" };
  return { from, visitor, length: lf + 1 };
}

function mac(secret: string, fields: string): string {
  return createHmac("sha256", secret).update(`${PREAMBLE_PREFIX}${fields}`).digest("hex");
}

/** The nonces of lines accepted within the window, so a captured line is good once. */
export class NonceMemory {
  #current = new Set<string>();
  #previous = new Set<string>();
  #rotated = 0;

  /** True the first time `nonce` is seen in the last one or two windows; a line older than that is refused by its time anyway. */
  claim(nonce: string, now: number): boolean {
    if (now - this.#rotated > 2 * PREAMBLE_WINDOW_MS) {
      this.#previous = this.#current;
      this.#current = new Set();
      this.#rotated = now;
    }
    if (this.#current.has(nonce) || this.#previous.has(nonce)) return false;
    this.#current.add(nonce);
    return true;
  }
}
