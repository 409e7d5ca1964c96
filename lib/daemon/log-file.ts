/**
 * The daemons' log files: rotating them by size, reading their last lines,
 * and following them across a rotation (`petit logs -f`).
 *
 * Rotation is copy-and-truncate, not rename-and-reopen: a background
 * daemon's stdout and stderr are the log file itself (opened for append by
 * spawnSelf()), and so are sshd's, which outlives petit-serverd. Node cannot
 * re-point its own fd 2, so after a rename whatever bypasses petit's log
 * calls (Node's trace of a fatal error) would land in the rotated file.
 * Truncating keeps every writer on the live file, and as each holds it with
 * O_APPEND, its next write goes to the new end (offset 0), never past a hole.
 * @module
 */
import { closeSync, copyFileSync, existsSync, fstatSync, openSync, readSync, renameSync, statSync, truncateSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** A log file is rotated once it is larger than this: 10 MiB. */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;

/** Rotated generations kept: `X.log.1` (newest) to `X.log.3`. */
export const LOG_KEEP = 3;

/**
 * Set by spawnSelf() for a background daemon: the log file its stdout and
 * stderr append to, which the daemon then rotates itself.
 */
export const LOG_FILE_ENV = "PETIT_LOG_FILE";

/** How large a log may grow and how many rotated copies to keep. */
export interface RotateOptions {
  maxBytes?: number;
  keep?: number;
}

/**
 * When `path` is larger than `maxBytes`: shifts `path.1`… to `path.2`…
 * (dropping the oldest beyond `keep`), copies `path` to `path.1` and
 * truncates `path` to 0. Returns whether it rotated.
 *
 * Lines another process appends between the copy and the truncation are
 * lost (microseconds; logrotate's copytruncate has the same window). The
 * calling process's own synchronous writes cannot fall in it.
 * @example rotateBySize("/root/.petit/server/sshd.log")
 */
export function rotateBySize(path: string, { maxBytes = LOG_MAX_BYTES, keep = LOG_KEEP }: RotateOptions = {}): boolean {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  for (let i = keep - 1; i >= 1; i--) {
    if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
  }
  copyFileSync(path, `${path}.1`); // copies the mode too (0600)
  truncateSync(path, 0);
  return true;
}

/** Checks a few log files every few seconds and rotates the ones grown too large. */
export class LogRotator {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly files: string[],
    private readonly options: RotateOptions & { log: (line: string) => void; intervalMs?: number },
  ) {}

  /** Starts checking; the first check comes after one interval, so a daemon's start-up lines stay where `petit up` reads them. */
  start(): this {
    this.#timer = setInterval(() => this.check(), this.options.intervalMs ?? 5_000);
    this.#timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Rotates each file that is too large now; a failure is logged and retried at the next check. */
  check(): void {
    const maxBytes = this.options.maxBytes ?? LOG_MAX_BYTES;
    const limit = maxBytes % (1024 * 1024) === 0 ? `${maxBytes / 1024 / 1024} MiB` : `${maxBytes} bytes`;
    for (const file of this.files) {
      try {
        if (rotateBySize(file, this.options)) {
          this.options.log(`log: "${file}" passed ${limit}; rotated it to "${file}.1"`);
        }
      } catch (error) {
        this.options.log(`log: cannot rotate "${file}": ${(error as Error).message} (will retry)`);
      }
    }
  }
}

/**
 * In a daemon started by spawnSelf(): rotates the log file its stdout and
 * stderr append to. Does nothing in `--foreground` (stderr is journald's).
 */
export function rotateOwnLog(log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): LogRotator | undefined {
  const file = env[LOG_FILE_ENV];
  if (!file) return undefined;
  // Not inherited by what the daemon runs (ssh, sshd, useradd).
  delete env[LOG_FILE_ENV];
  return new LogRotator([file], { log }).start();
}

/**
 * Returns the last `count` lines of `path` and the byte offset read up to
 * (to follow from). Reads backwards, so a large log costs only its tail.
 */
export function lastLines(path: string, count: number): { text: string; end: number } {
  const fd = openSync(path, "r");
  try {
    const end = fstatSync(fd).size;
    let start = end;
    let tail = Buffer.alloc(0);
    // Enough once the tail holds `count` newlines before its last character.
    while (start > 0 && count > 0 && tail.subarray(0, -1).filter((byte) => byte === 0x0a).length < count) {
      const length = Math.min(64 * 1024, start);
      start -= length;
      const chunk = Buffer.alloc(length);
      readSync(fd, chunk, 0, length, start);
      tail = Buffer.concat([chunk, tail]);
    }
    if (count === 0) return { text: "", end };
    let cut = tail.at(-1) === 0x0a ? tail.length - 1 : tail.length;
    for (let i = 0; i < count && cut > 0; i++) cut = tail.lastIndexOf(0x0a, cut - 1);
    return { text: tail.subarray(cut + 1).toString("utf8"), end };
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes what is appended to `path` from byte `from` on, until `signal`
 * aborts. Follows a copy-and-truncate rotation (the unread rest is taken
 * from `path.1`) and a rename-and-create one (the old file is read to its
 * end, then the new one from its start), and waits for a missing file.
 */
export async function followLog(path: string, options: {
  from: number; write: (chunk: Buffer) => void; signal: AbortSignal; intervalMs?: number;
}): Promise<void> {
  const { write, signal } = options;
  let offset = options.from;
  let fd: number | undefined;
  try {
    while (!signal.aborted) {
      if (fd === undefined && existsSync(path)) fd = openSync(path, "r");
      if (fd !== undefined) {
        const size = fstatSync(fd).size;
        if (size < offset) {
          // Truncated: what we had not read yet was copied to path.1 just before.
          readRange(`${path}.1`, offset, write);
          offset = 0;
        }
        offset = readToEnd(fd, offset, write);
        if (!sameFile(fd, path)) {
          // Renamed away and read to its end: go on with the new file from its start.
          closeSync(fd);
          fd = undefined;
          offset = 0;
          continue;
        }
      }
      await sleep(options.intervalMs ?? 250, undefined, { signal }).catch(() => undefined);
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes the bytes of `fd` from `offset` to its end; returns the new offset. */
function readToEnd(fd: number, offset: number, write: (chunk: Buffer) => void): number {
  const buffer = Buffer.alloc(64 * 1024);
  for (;;) {
    const n = readSync(fd, buffer, 0, buffer.length, offset);
    if (n === 0) return offset;
    write(Buffer.from(buffer.subarray(0, n)));
    offset += n;
  }
}

function readRange(path: string, from: number, write: (chunk: Buffer) => void): void {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return; // no rotated copy: those lines are gone
  }
  try {
    readToEnd(fd, from, write);
  } finally {
    closeSync(fd);
  }
}

function sameFile(fd: number, path: string): boolean {
  try {
    const open = fstatSync(fd);
    const now = statSync(path);
    return open.ino === now.ino && open.dev === now.dev;
  } catch {
    return false;
  }
}
