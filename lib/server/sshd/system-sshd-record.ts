/**
 * What petit added to the system sshd, kept in `server/system-sshd.json` so
 * that `petit server uninstall-sshd` removes exactly that, even after the
 * config changed.
 * @module
 */
import { readFileIfExists, writeFileAtomic } from "../../fs-atomic.ts";

/** One installation of petit's drop-in. */
export interface InstallRecord {
  drop_in: string;
  main_config: string;
  sshd_path: string;
  /** The configured pid file; empty: the PidFile of sshd's config. */
  pid_file: string;
  tunnel_user: string;
  /** petit created the drop-in folder: uninstall removes it when it is empty again. */
  created_dir: boolean;
}

/** Reads the record at `path`, or undefined when petit installed nothing. */
export function readInstallRecord(path: string): InstallRecord | undefined {
  const text = readFileIfExists(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as InstallRecord;
  } catch (error) {
    throw new Error(`Cannot parse "${path}": ${(error as Error).message} (delete it and run "petit server init --ssh-mode system" again)`, { cause: error });
  }
}

/** Writes the record (0600). */
export function writeInstallRecord(path: string, record: InstallRecord): void {
  writeFileAtomic(path, JSON.stringify(record, null, 2) + "\n", 0o600);
}
