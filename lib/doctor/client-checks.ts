/**
 * The client's checks on this machine (ssh, key, daemon, tunnel, target)
 * and the whole client list in report order.
 * @module
 */
import { statSync } from "node:fs";
import type { ClientStatus } from "../protocol/client-status.ts";
import { parseHostPort } from "../config/values.ts";
import { callControl } from "../daemon/control-client.ts";
import { readSecret } from "../secrets.ts";
import { fail, ok, warn, type Check, type Finding } from "./check.ts";
import { registerFix, type ClientContext } from "./client-context.ts";
import { clientRelayChecks } from "./client-relay-checks.ts";
import { clientSshChecks } from "./client-ssh-checks.ts";
import { checkOpenSsh } from "./openssh.ts";
import { probeTcp } from "./probe.ts";

/** Runs `client.ssh_path -V`: present and OpenSSH ≥ 7.8. */
export function checkSsh({ config }: ClientContext): Promise<Finding> {
  return checkOpenSsh({ program: config.ssh_path, label: "ssh", packageName: "openssh-client", configKey: "client.ssh_path" });
}

/** The client key exists, belongs to this user and is readable by it alone (ssh ignores it otherwise). */
export function checkKey({ config, paths }: ClientContext): Finding {
  let stat;
  try {
    stat = statSync(paths.key);
  } catch (error) {
    return fail(`no client key at "${paths.key}" (${(error as NodeJS.ErrnoException).code})`, registerFix(config));
  }
  const mode = (stat.mode & 0o777).toString(8).padStart(4, "0");
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    return fail(`"${paths.key}" belongs to uid ${stat.uid}, not to this user (uid ${uid}): ssh will not use it`, `chown ${uid} "${paths.key}"`);
  }
  if (stat.mode & 0o077) {
    return fail(`"${paths.key}" has mode ${mode}: ssh refuses a private key that others can read`, `chmod 600 "${paths.key}"`);
  }
  return ok(`"${paths.key}" is there, mode ${mode}`);
}

/** petit-clientd answers on its control port (2 s); keeps its status for the tunnel check. */
export async function checkDaemon(context: ClientContext): Promise<Finding> {
  const { config, paths, configFile } = context;
  const where = `127.0.0.1:${config.control_port}`;
  let secret: string | undefined;
  try {
    secret = readSecret(paths.controlSecret);
  } catch (error) {
    return fail((error as Error).message, `chmod 600 "${paths.controlSecret}", then petit up`);
  }
  if (!secret) return fail(`petit-clientd has never run here (no "${paths.controlSecret}")`, "petit up");
  let status: ClientStatus | undefined;
  try {
    status = await callControl<ClientStatus>({ port: config.control_port, secret }, "/v1/status", { timeout: 2_000 });
  } catch (error) {
    return fail(
      `something that is not this petit-clientd answers on ${where} (client.control_port): ${(error as Error).message}`,
      `stop that program, or set client.control_port in "${configFile}" to a free port; then petit up`,
    );
  }
  if (!status) return fail(`petit-clientd does not answer on ${where} (client.control_port): it is not running`, "petit up");
  context.status = status;
  return ok(`petit-clientd pid ${status.pid} answers on ${where}`);
}

/** The tunnel's state as the daemon reports it: connected, or why not. */
export function checkTunnel({ config, status }: ClientContext): Finding {
  if (!status) return fail("petit-clientd gave no status", "petit down && petit up");
  const port = `relay port ${config.port}`;
  switch (status.state) {
    case "connected":
      return ok(`connected since ${status.connected_since} (ssh pid ${status.ssh_pid}, ${port}, ${status.restarts} restart(s))`);
    case "connecting":
      return warn(`connecting (ssh pid ${status.ssh_pid}, ${port})`, "wait a few seconds and run petit doctor again; petit status shows progress");
    case "stopped":
      return fail("petit-clientd runs but its tunnel is stopped", "petit down && petit up");
    default: {
      const why = status.last_error ?? "no error recorded";
      const fix = /petit register/.test(why) ? registerFix(config)
        : "fix what the failed checks above name; petit down && petit up then retries at once";
      const next = status.next_retry_at ? `, next try at ${status.next_retry_at}` : "";
      return fail(`the tunnel is ${status.state} after ${status.restarts} restart(s)${next}: ${why}`, fix);
    }
  }
}

/** A TCP connect to `client.target` (2 s): the service petit exposes answers. */
export async function checkTarget({ config, configFile }: ClientContext): Promise<Finding> {
  const target = parseHostPort(config.target);
  if (!target) return fail(`client.target "${config.target}" is not HOST:PORT`, `set client.target in "${configFile}" to HOST:PORT`);
  const probe = await probeTcp(target.host, target.port, 2_000);
  if (!probe.ok) {
    return fail(
      `nothing answers at ${config.target} (client.target): ${probe.reason}`,
      `start the service on ${config.target}, or point petit at the right one: set client.target in "${configFile}" ` +
        `(or petit register ${config.relay} --token TOKEN --to HOST:PORT), then petit down && petit up`,
    );
  }
  return ok(`${config.target} accepts TCP connections (${probe.ms} ms)`);
}

/** Every client check after "config", in report order. */
export const clientChecks: Check<ClientContext>[] = [
  { name: "ssh", run: checkSsh },
  { name: "key", run: checkKey },
  ...clientRelayChecks,
  ...clientSshChecks,
  { name: "daemon", run: checkDaemon },
  { name: "tunnel", needs: ["daemon"], run: checkTunnel },
  { name: "target", run: checkTarget },
];
