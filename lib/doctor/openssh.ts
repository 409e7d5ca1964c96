/**
 * Which OpenSSH a program is, from what `ssh -V` or `sshd -V` prints.
 * @module
 */
import { fail, ok, type Finding } from "./check.ts";
import { runProgram } from "./probe.ts";

/**
 * The oldest OpenSSH petit supports: 7.8 added `permitlisten` to
 * authorized_keys, which confines each client key to its own relay port.
 */
export const MIN_OPENSSH = { major: 7, minor: 8 } as const;

/** An OpenSSH version as printed ("OpenSSH_9.2p1"), split into numbers. */
export interface OpenSshVersion {
  major: number;
  minor: number;
  /** The word as printed, e.g. "OpenSSH_9.2p1". */
  text: string;
}

/**
 * Finds "OpenSSH_X.Y" in `output`; undefined when it is not there (not OpenSSH).
 * @example parseOpenSshVersion("OpenSSH_9.2p1 Debian-2, OpenSSL 3.0")?.minor === 2
 */
export function parseOpenSshVersion(output: string): OpenSshVersion | undefined {
  const match = /OpenSSH_(\d+)\.(\d+)\S*/.exec(output);
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), text: match[0].replace(/,$/, "") };
}

/** Tells whether `version` is at least `min`. */
export function isAtLeast(version: OpenSshVersion, min: { major: number; minor: number } = MIN_OPENSSH): boolean {
  return version.major > min.major || (version.major === min.major && version.minor >= min.minor);
}

/** How to get a program when it is missing or too old, and which config key points at it. */
export interface OpenSshProgram {
  /** The path or name run, e.g. "ssh" or "/usr/sbin/sshd". */
  program: string;
  /** "ssh" or "sshd", for messages. */
  label: string;
  /** The Debian package that provides it. */
  packageName: string;
  /** The config key that names the program, e.g. "client.ssh_path". */
  configKey: string;
}

/**
 * Runs `program -V` (within 3 s) and judges the version: missing or older
 * than 7.8 fails; a program that is not OpenSSH fails too, since petit relies
 * on OpenSSH's options and messages.
 */
export async function checkOpenSsh(p: OpenSshProgram): Promise<Finding> {
  const install = `apt-get install ${p.packageName} (or set ${p.configKey} to an OpenSSH ${MIN_OPENSSH.major}.${MIN_OPENSSH.minor} or newer)`;
  const run = await runProgram(p.program, ["-V"], 3_000);
  if (run.notStarted) return fail(`cannot run ${p.label} "${p.program}": ${run.notStarted}`, install);
  if (run.timedOut) return fail(`"${p.program} -V" did not answer within 3 s`, install);
  const version = parseOpenSshVersion(run.stderr + "\n" + run.stdout);
  if (!version) {
    const said = (run.stderr || run.stdout).trim().split("\n")[0] ?? "";
    return fail(`"${p.program}" is not OpenSSH (-V printed "${said.slice(0, 80)}")`, install);
  }
  if (!isAtLeast(version)) {
    return fail(`"${p.program}" is ${version.text}, older than OpenSSH ${MIN_OPENSSH.major}.${MIN_OPENSSH.minor} (needed for permitlisten)`, install);
  }
  return ok(`${version.text} at "${p.program}"`);
}
