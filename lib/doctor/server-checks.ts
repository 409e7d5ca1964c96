/**
 * The relay's checks: sshd, its generated config, petit-serverd, then the
 * ports and files checks, in report order.
 * @module
 */
import { existsSync } from "node:fs";
import { callControl } from "../daemon/control-client.ts";
import type { ServerStatus } from "../protocol/server-control.ts";
import { readSecret } from "../secrets.ts";
import { findSshd } from "../ssh/find-sshd.ts";
import { fail, ok, warn, type Check, type Finding } from "./check.ts";
import { checkOpenSsh } from "./openssh.ts";
import { checkAcme } from "./server-acme.ts";
import { runProgram } from "./probe.ts";
import { checkStore } from "./server-store.ts";
import { restartFix, type ServerContext } from "./server-context.ts";
import { serverFileChecks } from "./server-files.ts";
import { serverPortChecks } from "./server-ports.ts";
import { checkSystemSshdConfig, checkTunnelAccount } from "./server-system-sshd.ts";

const INSTALL_SSHD = "apt-get install openssh-server (or set server.sshd_path)";

/** sshd is there (server.sshd_path or the usual places) and is OpenSSH ≥ 7.8, which has permitlisten. */
export async function checkSshd(context: ServerContext): Promise<Finding> {
  let path: string;
  try {
    path = findSshd(context.config.sshd_path);
  } catch (error) {
    return fail((error as Error).message, INSTALL_SSHD);
  }
  const finding = await checkOpenSsh({ program: path, label: "sshd", packageName: "openssh-server", configKey: "server.sshd_path" });
  if (finding.status === "ok") context.sshdPath = path;
  return finding;
}

/**
 * `sshd -t -f server/sshd_config` (5 s) accepts the generated config, when it
 * exists; in system sshd mode, the machine's sshd applies petit's drop-in.
 */
export async function checkSshdConfig(context: ServerContext): Promise<Finding> {
  if (context.config.ssh_mode === "system") return checkSystemSshdConfig(context);
  const file = context.paths.sshdConfig;
  if (!existsSync(file)) return warn(`"${file}" does not exist yet`, "petit server up (it writes the file and checks it with sshd -t)");
  const test = await runProgram(context.sshdPath!, ["-t", "-f", file], 5_000);
  if (test.exitCode === 0) return ok(`sshd -t accepts "${file}"`);
  const said = test.stderr.trim().split("\n").slice(0, 3).join(" / ") || (test.timedOut ? "timed out after 5 s" : `exit ${test.exitCode}`);
  if (/privilege separation directory/.test(said)) {
    return fail(`sshd -t refuses "${file}": ${said}`, `mkdir -p /run/sshd (${restartFix(context)} also creates it)`);
  }
  return fail(
    `sshd -t refuses "${file}": ${said}`,
    `${restartFix(context)} (it regenerates the file from config.toml; if sshd still refuses it, check server.listen, server.ssh_port and server.tunnel_user in "${context.configFile}")`,
  );
}

/** petit-serverd answers on its control port (2 s) and reports a running sshd. */
export async function checkServerDaemon(context: ServerContext): Promise<Finding> {
  const { config, paths, configFile } = context;
  const where = `127.0.0.1:${config.control_port}`;
  let secret: string | undefined;
  try {
    secret = readSecret(paths.controlSecret);
  } catch (error) {
    return fail((error as Error).message, `chmod 600 "${paths.controlSecret}", then petit server up`);
  }
  let status: ServerStatus | undefined;
  try {
    status = secret ? await callControl<ServerStatus>({ port: config.control_port, secret }, "/v1/status", { timeout: 2_000 }) : undefined;
  } catch (error) {
    return fail(
      `something that is not this petit-serverd answers on ${where} (server.control_port): ${(error as Error).message}`,
      `stop that program, or set server.control_port in "${configFile}" to a free port; then petit server up`,
    );
  }
  if (!status) return fail(`petit-serverd does not answer on ${where} (server.control_port): the relay is not running`, "petit server up");
  context.running = status;
  if (!status.sshd_pid) {
    return fail(`petit-serverd pid ${status.pid} runs, but its sshd does not`, `petit server restart (and read "${paths.sshdLog}")`);
  }
  return ok(`petit-serverd pid ${status.pid} answers on ${where}; sshd pid ${status.sshd_pid}; ${status.clients} client(s)`);
}

/** Every relay check after "config", in report order. */
export const serverChecks: Check<ServerContext>[] = [
  { name: "sshd", run: checkSshd },
  { name: "sshd-config", needs: ["sshd"], run: checkSshdConfig },
  { name: "tunnel-account", run: checkTunnelAccount },
  { name: "daemon", run: checkServerDaemon },
  { name: "store", run: checkStore },
  { name: "acme", needs: ["daemon"], run: checkAcme },
  ...serverPortChecks,
  ...serverFileChecks,
];
