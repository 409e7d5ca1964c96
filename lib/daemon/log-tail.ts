/**
 * Reading a daemon's log file: its last lines, and following it as it grows,
 * across a rotation (`petit logs -f`). Rotation itself is in log-file.ts.
 * @module
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

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
