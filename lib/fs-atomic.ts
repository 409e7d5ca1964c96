/**
 * Crash-safe file writes: a reader sees the old content or the new, never a
 * mix or a truncated file, even after kill -9 or power loss.
 * @module
 */
import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { randomBytes } from "node:crypto";

/**
 * Writes `data` to `path` via a temp file in the same folder: write, fsync,
 * rename, fsync the folder.
 * @example writeFileAtomic("/home/me/.petit/server/registry.json", json, 0o600)
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", mode);
  try {
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    unlinkSync(tmp);
    throw error;
  }
  // fsync the folder so the rename itself survives a power cut.
  const dirFd = openSync(dir, "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
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
