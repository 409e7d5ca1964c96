/**
 * Bad input for the input-validation and fuzz tests: a seeded PRNG, public
 * key texts and client names a relay must refuse, broken registration
 * requests, a raw-socket HTTP exchange that reports what the relay did, and
 * a bounded worker pool.
 * @module
 */
import { randomBytes } from "node:crypto";
import { signingKeyLine } from "./signing-keys.ts";
import { connect } from "node:net";

/** mulberry32: small, fast, and the same sequence for the same seed. */
export class Rng {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /** A generator of its own for input `index`: each input is the same whatever order the pool runs them in. */
  fork(index: number): Rng {
    return new Rng(Math.imul(this.seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
  }
}

/** Returns the seed in PETIT_FUZZ_SEED (to replay a run), else a fresh random one. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.PETIT_FUZZ_SEED;
  if (given === undefined || given === "") return randomBytes(4).readUInt32BE(0);
  const seed = Number(given);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`PETIT_FUZZ_SEED must be a whole number from 0 to 4294967295, got "${given}"`);
  }
  return seed;
}

/** Encodes `parts` in SSH wire format: each a uint32 length, then the bytes. */
export function sshBlob(...parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(parts.flatMap((part) => {
    const bytes = typeof part === "string" ? Buffer.from(part, "latin1") : part;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return [length, bytes];
  }));
}

/**
 * Returns a well-formed "ssh-ed25519 BASE64" line of a fresh key (from `rng`
 * when given) whose private half signing-keys.ts keeps, so a registration of
 * it can be signed.
 */
export function keyLine(rng?: Rng): string {
  return signingKeyLine(rng ? rng.bytes(32) : randomBytes(32));
}

/** Inserts `text` into `into` before index `at`. */
export function insertAt(into: string, at: number, text: string): string {
  return into.slice(0, at) + text + into.slice(at);
}

const OPTION_PREFIXES = [
  'command="x"', 'restrict,permitlisten="0.0.0.0:1"', "no-pty", 'environment="LD_PRELOAD=/tmp/x"',
  'from="*"', "cert-authority", 'permitopen="127.0.0.1:22"', 'restrict,command="sh"',
];
const CONTROLS = ["\0", "\r", "\n", "\t", "\x0b", "\x0c", "\x1b", "\x7f", "\r\n"];
const BAD_TYPES = ["ssh-dss", "ssh-ed448", "ssh-ed25519-cert-v01@openssh.com", "ssh-еd25519", "SSH-ED25519", "ssh-ed25519\u200b", "x"];

/**
 * Returns a public key text the relay must refuse, whatever the random
 * choices, for one of the reasons in OPENSSH_NOTES.md ("Validating a
 * submitted public key") or petit's own limits (one plain line, at most
 * 16384 characters, RSA ≥ 1024 bits).
 */
export function badKeyText(rng: Rng): string {
  const good = keyLine(rng);
  const blob = good.split(" ")[1];
  const raw = Buffer.from(blob, "base64");
  const b64 = (bytes: Buffer) => bytes.toString("base64");
  const breakers: (() => string)[] = [
    () => `${rng.pick(OPTION_PREFIXES)} ${good}`,
    // Before an existing character, so it is never the one trailing newline a key file may end with.
    () => insertAt(good, rng.int(good.length), rng.pick(CONTROLS)),
    () => `${good}\n${keyLine(rng)}`,
    () => `${good} ${keyLine(rng)}`,
    () => `${good} comment ${rng.pick(["ssh-rsa", "ecdsa-sha2-nistp256", "sk-ssh-ed25519@openssh.com"])} AAAA`,
    () => `${rng.pick(BAD_TYPES)} ${blob}`,
    () => `${rng.pick(["ssh-rsa", "ecdsa-sha2-nistp256", "sk-ssh-ed25519@openssh.com"])} ${blob}`,
    () => `ssh-ed25519 ${b64(raw.subarray(0, rng.int(raw.length)))}`,
    () => `ssh-ed25519 ${b64(sshBlob("ssh-ed25519", rng.bytes(rng.pick([0, 1, 31, 33, 64]))))}`,
    () => `ssh-ed25519 ${b64(sshBlob("ssh-ed25519", rng.bytes(32), rng.bytes(rng.int(8))))}`,
    () => `ssh-ed25519 ${b64(Buffer.concat([raw, rng.bytes(1 + rng.int(3))]))}`,
    () => `ssh-ed25519 ${insertAt(blob, rng.int(blob.length), rng.pick(["-", "_", "!", "*", "=", "é", " =", "%"]))}`,
    () => `ssh-ed25519 ${blob.slice(0, -1 - rng.int(3))}`,
    () => `${good} ${"x".repeat(16_400 + rng.int(4_000))}`,
    () => `ssh-dss ${b64(sshBlob("ssh-dss", rng.bytes(129), rng.bytes(21), rng.bytes(128), rng.bytes(128)))}`,
    () => `ssh-rsa ${b64(sshBlob("ssh-rsa", Buffer.from([1, 0, 1]), rng.bytes(64)))}`,
    () => rng.pick(["", " ", "ssh-ed25519", blob, "ssh-ed25519 ", "\n", `${blob} ssh-ed25519`]),
  ];
  return rng.pick(breakers)();
}

const BAD_NAMES = ["..", "-x", "x-", "a".repeat(64), "1234", "0", "bücher", "\u212Aey", "İstanbul", "a.b", "a_b", "a b", " ", "-", "xn--", "xn--pple-43d"];
const NAME_BREAKERS = [".", "_", " ", "/", "\0", "\n", "ü", "\u212A", "İ", "*", "@", ":", "\u200b", "%"];

/** Returns a name that is not a DNS label (never "", which means "no name"). */
export function badName(rng: Rng): string {
  if (rng.chance(0.4)) return rng.pick(BAD_NAMES);
  const base = rng.pick(["shop", "a", "x1", "my-app", "z".repeat(rng.int(70))]);
  return insertAt(base, rng.int(base.length + 1), rng.pick(NAME_BREAKERS));
}

/** What the relay did with one raw request. */
export interface Outcome {
  /** Status codes of every response seen, in order (1xx included). */
  statuses: number[];
  timedOut: boolean;
  /** This side reset the connection on purpose. */
  aborted: boolean;
  /** The connection could not be opened at all: nothing listens. */
  unreachable: boolean;
  /** The first bytes of the answer, for failure reports. */
  head: string;
}

/**
 * Connects to 127.0.0.1:`port`, writes `bytes`, then half-closes (so a
 * truncated request ends); or, with `abort` (ms), resets the connection that
 * long after writing or at the first byte of the answer, like a visitor that
 * gives up. Reads until the relay closes or `timeoutMs` passes.
 */
export function exchange(port: number, bytes: Buffer, options: { timeoutMs: number; abort?: number | false }): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    let unreachable = false;
    const timer = setTimeout(() => { timedOut = true; socket.destroy(); }, options.timeoutMs);
    const reset = () => { if (!socket.destroyed) socket.resetAndDestroy(); };
    socket.on("data", (chunk: Buffer) => {
      if (size < 65_536) chunks.push(chunk);
      size += chunk.length;
      if (typeof options.abort === "number") reset();
    });
    // A reset or a refused write counts as "closed by the relay"; only a refused connect is unreachable.
    socket.on("error", (error: NodeJS.ErrnoException) => { if (error.code === "ECONNREFUSED") unreachable = true; });
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const statuses = [...text.matchAll(/(?:^|\n)HTTP\/\d\.\d (\d{3})/g)].map((m) => Number(m[1]));
      resolve({ statuses, timedOut, aborted: typeof options.abort === "number", unreachable, head: text.slice(0, 160) });
    });
    socket.on("connect", () => {
      if (typeof options.abort !== "number") return void socket.end(bytes);
      const delay = options.abort;
      socket.write(bytes, () => (delay > 0 ? setTimeout(reset, delay) : reset()));
    });
  });
}

/** Returns the outcome's class: "4xx" and so on for the final answer, else "closed", "aborted", "timeout", "unreachable". */
export function classify(outcome: Outcome): string {
  if (outcome.unreachable) return "unreachable";
  if (outcome.timedOut) return "timeout";
  const final = outcome.statuses.find((s) => s >= 200);
  if (final !== undefined) return `${Math.floor(final / 100)}xx`;
  return outcome.aborted ? "aborted" : "closed";
}

/** Tells whether an outcome is a refusal: only 4xx answers (after any 1xx), or a connection the relay closed. */
export function isRefusal(outcome: Outcome): boolean {
  if (outcome.unreachable || outcome.timedOut) return false;
  return outcome.statuses.every((s) => s < 200 || (s >= 400 && s < 500));
}

/**
 * Runs `task(0)`…`task(count - 1)`, at most `concurrency` at a time, starting
 * no new task after `deadline` (a Date.now() value) or once `stop()` says so.
 * Returns how many were started.
 */
export async function runPool(
  count: number, concurrency: number, deadline: number, task: (index: number) => Promise<void>, stop = () => false,
): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count && Date.now() < deadline && !stop()) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next;
}
