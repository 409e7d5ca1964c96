/**
 * The client's checks that talk SSH to the relay with OpenSSH itself: is
 * the pinned host key still the relay's, and does the relay still accept
 * this client's key.
 * @module
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { READY_MARKER, RELAY_HOST_KEY_ALIAS } from "../constants.ts";
import { parsePublicKey, type PublicKey } from "../ssh/public-key.ts";
import { tunnelArgs } from "../ssh/tunnel-args.ts";
import { fail, ok, warn, type Check, type Finding } from "./check.ts";
import { registerFix, type ClientContext } from "./client-context.ts";
import { runProgram } from "./probe.ts";

/** Returns the key pinned for the relay in petit's known_hosts text, if any. */
export function pinnedHostKey(text: string): PublicKey | undefined {
  for (const line of text.split("\n")) {
    const [alias, type, blob] = line.trim().split(/\s+/);
    if (alias !== RELAY_HOST_KEY_ALIAS || !type || !blob) continue;
    try {
      return parsePublicKey(`${type} ${blob}`);
    } catch {
      // a damaged line pins nothing
    }
  }
  return undefined;
}

/** Returns the first key of `type` in ssh-keyscan's output, if any. */
export function scannedHostKey(output: string, type: string): PublicKey | undefined {
  for (const line of output.split("\n")) {
    if (line.startsWith("#")) continue;
    const [, scannedType, blob] = line.trim().split(/\s+/);
    if (scannedType !== type || !blob) continue;
    try {
      return parsePublicKey(`${scannedType} ${blob}`);
    } catch {
      // not a key line
    }
  }
  return undefined;
}

/** ssh-keyscan beside `client.ssh_path`, or from PATH when that is a bare name. */
function keyscanProgram(sshPath: string): string {
  return sshPath.includes("/") ? join(dirname(sshPath), "ssh-keyscan") : "ssh-keyscan";
}

/** Asks the relay's sshd for its host key (ssh-keyscan, 3 s) and compares it with client/known_hosts. */
export async function checkHostKey({ config, paths }: ClientContext): Promise<Finding> {
  let pinned: PublicKey | undefined;
  try {
    pinned = pinnedHostKey(readFileSync(paths.knownHosts, "utf8"));
  } catch {
    // missing file: reported below
  }
  if (!pinned) {
    return fail(`no relay host key is pinned in "${paths.knownHosts}" (as "${RELAY_HOST_KEY_ALIAS}")`, registerFix(config));
  }
  const where = `${config.ssh_host}:${config.ssh_port}`;
  const program = keyscanProgram(config.ssh_path);
  const scan = await runProgram(program, ["-p", String(config.ssh_port), "-t", pinned.type.replace(/^ssh-/, ""), "-T", "3", "--", config.ssh_host], 6_000);
  if (scan.notStarted) {
    return warn(`cannot run "${program}" to read the relay's host key: ${scan.notStarted}`, "apt-get install openssh-client");
  }
  const presented = scannedHostKey(scan.stdout, pinned.type);
  if (!presented) {
    const said = scan.stderr.split("\n").find((l) => l.trim() && !l.startsWith("#"))?.trim();
    return fail(
      `the relay at ${where} presented no ${pinned.type} host key${said ? ` (${said})` : ""}`,
      "check that client.ssh_host and client.ssh_port point at petit's sshd (server.ssh_port on the relay)",
    );
  }
  if (presented.blob !== pinned.blob) {
    return fail(
      `the relay at ${where} presents host key ${presented.fingerprint}, but "${paths.knownHosts}" pins ${pinned.fingerprint}`,
      `if the relay was reinstalled, confirm ${presented.fingerprint} with its operator, then: ` +
        `petit register ${config.relay} --token TOKEN --to ${config.target} --fingerprint ${presented.fingerprint}; ` +
        "otherwise do not connect: someone may be intercepting the connection",
    );
  }
  return ok(`the relay at ${where} presents the pinned key ${pinned.fingerprint}`);
}

/**
 * Logs in with the client's key the way the tunnel does, without -R: the
 * relay's forced command answers "petit-tunnel-ready" when the key is
 * still registered; "Permission denied (publickey)" means it was revoked.
 */
export async function checkRegistration({ config, paths }: ClientContext): Promise<Finding> {
  const fingerprint = publicKeyFingerprint(`${paths.key}.pub`);
  const args = tunnelArgs({
    host: config.ssh_host, port: config.ssh_port, user: config.ssh_user,
    keyFile: paths.key, knownHostsFile: paths.knownHosts, forwards: [],
    keepaliveInterval: config.keepalive_interval, keepaliveCount: config.keepalive_count, preferAes: false,
  });
  // ssh keeps the first value of an option: this ConnectTimeout wins over the tunnel's 10 s.
  const run = await runProgram(config.ssh_path, ["-o", "ConnectTimeout=5", ...args], 10_000);
  const login = `${config.ssh_user}@${config.ssh_host}:${config.ssh_port}`;
  const lastLine = run.stderr.split("\n").map((l) => l.trim()).filter(Boolean).at(-1) ?? "";
  if (run.stdout.includes(READY_MARKER)) {
    return ok(`the relay accepts this client's key ${fingerprint} (client ${config.id}, login ${login})`);
  }
  if (/Permission denied \(publickey/.test(run.stderr)) {
    return fail(
      `the relay refused this client's key ${fingerprint} at ${login} (Permission denied (publickey)): client ${config.id} was revoked or is unknown to the relay`,
      registerFix(config),
    );
  }
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(run.stderr)) {
    return fail(`ssh refused the relay's host key at ${login} (${lastLine})`, 'see "host-key": if the relay was reinstalled, ' + registerFix(config));
  }
  if (run.timedOut) return fail(`the ssh login at ${login} did not finish within 10 s`, 'check "relay-ssh" above and the relay\'s server/sshd.log');
  if (run.exitCode === 0) {
    return warn(
      `logged in at ${login}, but the relay's forced command did not print "${READY_MARKER}"`,
      "on the relay: petit server restart (it rewrites server/sshd_config and authorized_keys)",
    );
  }
  return fail(
    `the ssh login at ${login} failed (exit ${run.exitCode ?? run.notStarted}): ${lastLine || "no message"}`,
    "read the relay's server/sshd.log for the reason; petit status shows the tunnel's last error",
  );
}

function publicKeyFingerprint(path: string): string {
  try {
    return parsePublicKey(readFileSync(path, "utf8").trim()).fingerprint;
  } catch {
    return "(unknown fingerprint)";
  }
}

/** The SSH checks, in report order. */
export const clientSshChecks: Check<ClientContext>[] = [
  { name: "host-key", needs: ["relay-ssh"], run: checkHostKey },
  { name: "registration", needs: ["ssh", "key", "relay-ssh", "host-key"], timeoutMs: 15_000, run: checkRegistration },
];
