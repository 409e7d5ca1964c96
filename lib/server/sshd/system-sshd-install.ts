/**
 * Putting petit's drop-in into the machine's sshd config and taking it out
 * again. Every change is checked by sshd itself before sshd sees it
 * (`sshd -t`, then `sshd -T` for the tunnel account) and undone when the
 * check fails, so a bad drop-in never reaches a running sshd.
 * @module
 */
import { execa } from "execa";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { readFileIfExists, writeFileAtomic } from "../../fs-atomic.ts";
import { includeLineFor, includes } from "../../ssh/sshd-include.ts";
import { DROP_IN_MARKER, renderDropIn } from "../../ssh/sshd-config.ts";
import { querySshd } from "./system-sshd-query.ts";

/** What petit needs to know to change the system sshd's config. */
export interface DropInTarget {
  sshdPath: string;
  /** The main sshd_config, which must Include the drop-in. */
  mainConfig: string;
  /** petit's file, e.g. /etc/ssh/sshd_config.d/50-petit.conf. */
  dropIn: string;
}

/** What installDropIn() did. */
export interface InstallResult {
  /** The drop-in's text changed, so sshd must be reloaded. */
  changed: boolean;
  /** The drop-in's folder did not exist and was created (uninstall removes it again when empty). */
  createdDir: boolean;
  /** Puts back what was there before (for a reload that failed: the next try then sees a change again). */
  undo(): void;
}

/** Throws, with the exact line to add, unless `mainConfig` Includes the drop-in outside any Match block. */
export function ensureIncluded(target: DropInTarget): void {
  if (!existsSync(target.mainConfig)) {
    throw new Error(`Cannot find the system sshd config "${target.mainConfig}" (set server.system_sshd_config)`);
  }
  if (includes(target.mainConfig, target.dropIn)) return;
  throw new Error(
    `The system sshd config "${target.mainConfig}" does not include petit's drop-in "${target.dropIn}", ` +
    `so sshd would never apply it: add this line near the top of "${target.mainConfig}", before any Match block:\n` +
    `  ${includeLineFor(dirname(target.dropIn))}`,
  );
}

/**
 * Writes the drop-in for `user` and checks it with sshd; on any failure the
 * drop-in is restored to its previous content (or removed) and the error
 * says so. Does not reload sshd.
 */
export async function installDropIn(
  target: DropInTarget, settings: { user: string; authorizedKeys: string },
): Promise<InstallResult> {
  ensureIncluded(target);
  const text = renderDropIn(settings);
  const previous = readFileIfExists(target.dropIn);
  if (previous !== undefined && !previous.startsWith(DROP_IN_MARKER)) {
    throw new Error(`"${target.dropIn}" exists and was not written by petit: move it away, or set server.system_dropin_dir`);
  }
  const dir = dirname(target.dropIn);
  const createdDir = !existsSync(dir);
  if (createdDir) mkdirSync(dir, { recursive: true, mode: 0o755 });
  const mode = previous === undefined ? 0o644 : statSync(target.dropIn).mode & 0o7777;
  if (previous !== text) writeWithMode(target.dropIn, text, mode);
  const undo = () => {
    if (previous !== text) restore(target.dropIn, previous, mode);
    if (createdDir) removeDirIfEmpty(dir);
  };
  try {
    await verifyDropIn(target, text, settings.user);
  } catch (error) {
    undo();
    const undone = previous === undefined ? "petit removed its drop-in again" : "petit restored its drop-in's previous content";
    throw new Error(`${(error as Error).message}\n(${undone}; the running sshd was not reloaded and is unchanged)`, { cause: error });
  }
  return { changed: previous !== text, createdDir, undo };
}

/**
 * Removes petit's drop-in and checks the config left behind with `sshd -t`;
 * puts the drop-in back when sshd refuses it. Returns whether there was one.
 */
export async function removeDropIn(target: DropInTarget, removeDir: boolean): Promise<boolean> {
  const previous = readFileIfExists(target.dropIn);
  if (previous === undefined) return false;
  if (!previous.startsWith(DROP_IN_MARKER)) {
    throw new Error(`"${target.dropIn}" was not written by petit (no "${DROP_IN_MARKER}" first line); leaving it alone`);
  }
  const mode = statSync(target.dropIn).mode & 0o7777;
  unlinkSync(target.dropIn);
  const test = await execa(target.sshdPath, ["-t", "-f", target.mainConfig], { reject: false, stdin: "ignore" });
  if (test.exitCode !== 0) {
    restore(target.dropIn, previous, mode);
    throw new Error(`sshd refuses "${target.mainConfig}" without petit's drop-in: ${test.stderr.trim()} (the drop-in was put back)`);
  }
  if (removeDir) removeDirIfEmpty(dirname(target.dropIn));
  return true;
}

/**
 * Throws unless `sshd -t` accepts the whole config and `sshd -T` for a login
 * of `user` shows every directive of the drop-in `text`: an earlier Match
 * block or Include could otherwise override them silently.
 */
export async function verifyDropIn(target: DropInTarget, text: string, user: string): Promise<void> {
  const test = await execa(target.sshdPath, ["-t", "-f", target.mainConfig], { reject: false, stdin: "ignore" });
  if (test.exitCode !== 0) {
    throw new Error(`sshd refused "${target.mainConfig}" with petit's drop-in "${target.dropIn}": ` +
      (test.stderr.trim() || `${target.sshdPath} -t exited ${test.exitCode}`));
  }
  const effective = await querySshd(target.sshdPath, target.mainConfig, user);
  const wrong: string[] = [];
  for (const line of text.split("\n")) {
    const match = /^ {2}(\S+) (.*)$/.exec(line);
    if (!match) continue;
    const [key, want] = [match[1].toLowerCase(), match[2]];
    const got = effective.get(key)?.join(" ");
    if (got !== want) wrong.push(`${match[1]} is "${got ?? "unset"}", not "${want}"`);
  }
  if (wrong.length > 0) {
    throw new Error(`sshd does not apply petit's drop-in "${target.dropIn}" to "${user}": ${wrong.join("; ")} ` +
      `(an earlier Match block or Include in "${target.mainConfig}" sets them first)`);
  }
}

function restore(path: string, previous: string | undefined, mode: number): void {
  if (previous === undefined) unlinkSync(path);
  else writeWithMode(path, previous, mode);
}

/** Writes atomically with exactly `mode` (the umask would otherwise narrow it). */
function writeWithMode(path: string, text: string, mode: number): void {
  writeFileAtomic(path, text, mode);
  chmodSync(path, mode);
}

function removeDirIfEmpty(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
}
