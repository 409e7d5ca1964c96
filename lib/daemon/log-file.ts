/**
 * The daemons' log files: rotating them by size. Reading their last lines
 * and following them across a rotation (`petit logs -f`) is in log-tail.ts.
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
import { copyFileSync, existsSync, renameSync, statSync, truncateSync } from "node:fs";

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
