/**
 * Crash-safe file writes: a reader sees the old content or the new, never a
 * mix or a truncated file, even after kill -9 or power loss.
 * @module
 */
import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync, mkdirSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { randomBytes } from "node:crypto";

/**
 * Writes `data` to `path` via a temp file in the same folder: write, fsync,
 * rename, fsync the folder.
 * @example writeFileAtomic("/home/me/.petit/server/registry.json", json, 0o600)
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  writeFilesAtomic([{ path, data, mode }]);
}

/**
 * Writes several files as writeFileAtomic() does, staged together: every
 * temp file is written and fsynced before the first rename, so a failure
 * while writing (a full disk, say) changes none of them. The renames then
 * follow in order.
 */
export function writeFilesAtomic(files: { path: string; data: string; mode?: number }[]): void {
  const staged: { tmp: string; path: string }[] = [];
  try {
    for (const { path, data, mode = 0o600 } of files) {
      const dir = dirname(path);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = join(dir, `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
      const fd = openSync(tmp, "wx", mode);
      staged.push({ tmp, path });
      try {
        writeSync(fd, data);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  } catch (error) {
    for (const { tmp } of staged) rmSync(tmp, { force: true });
    throw error;
  }
  let renamed = 0;
  try {
    for (const { tmp, path } of staged) {
      renameSync(tmp, path);
      renamed++;
    }
  } catch (error) {
    for (const { tmp } of staged.slice(renamed)) rmSync(tmp, { force: true });
    throw error;
  }
  // fsync the folders so the renames themselves survive a power cut.
  for (const dir of new Set(staged.map(({ path }) => dirname(path)))) {
    const dirFd = openSync(dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}

/** Removes temp files that writeFileAtomic left in `dir` when its process was killed mid-write. */
export function removeStaleTempFiles(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no folder yet: nothing left behind
  }
  for (const name of names) {
    if (/^\..+\.[0-9a-f]{8}\.tmp$/.test(name)) rmSync(join(dir, name), { force: true });
  }
}

/** Reads a text file, or returns undefined when it does not exist. */
export function readFileIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
