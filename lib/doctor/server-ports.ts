/**
 * The relay's port checks: its ports (https_port only with ACME) are free or held by petit itself,
 * and nothing else listens inside the tunnel port range.
 * @module
 */
import { parseRange } from "../config/values.ts";
import { readRegistry } from "./server-files.ts";
import { fail, ok, warn, type Check, type Finding } from "./check.ts";
import { addressesClash, describePid, holdersOf } from "./listeners.ts";
import { listenersOf, petitProcesses, restartFix, type ServerContext } from "./server-context.ts";

/** The relay's own ports: config key, what listens there, and on which address. */
const PORTS = [
  { key: "http_port", what: "the HTTP proxy" },
  { key: "https_port", what: "the HTTPS proxy" },
  { key: "api_port", what: "the registration API" },
  { key: "control_port", what: "the control port" },
  { key: "ssh_port", what: "sshd" },
] as const;

type PortKey = (typeof PORTS)[number]["key"];

/** Returns the check that `server.<key>` is free, or held by petit-serverd or its sshd. */
export function checkPort(key: PortKey, what: string): (context: ServerContext) => Finding {
  return (context) => {
    const { config, configFile } = context;
    const port = config[key];
    if (key === "https_port" && !config.acme) return ok(`server.https_port (${port}) is not used: [server.acme] is not set`);
    const address = key === "control_port" ? "127.0.0.1" : config.listen;
    const where = `${address}:${port} (server.${key}, ${what})`;
    const sockets = listenersOf(context).filter((l) => l.port === port && addressesClash(address, l.address));
    if (sockets.length === 0) return ok(`${where} is free`);
    const petit = petitProcesses(context);
    const ours = new Set([petit.serverd, petit.sshd].filter((pid): pid is number => pid !== undefined));
    const holders = holdersOf(sockets);
    const fix = `stop that program, or set server.${key} in "${configFile}" to a free port; then ${restartFix(context)}`;
    if (holders.length === 0) {
      return fail(`${where} is held by a process this user cannot see (find it with: ss -tlnp 'sport = :${port}')`, fix);
    }
    const foreign = holders.filter((pid) => !ours.has(pid));
    if (foreign.length) return fail(`${where} is held by ${foreign.map(describePid).join(", ")}, not by petit`, fix);
    return ok(`${where} is held by petit (${holders.map((pid) => (pid === petit.sshd ? `sshd pid ${pid}` : `petit-serverd pid ${pid}`)).join(", ")})`);
  };
}

/**
 * Nothing but petit's sshd sessions listens inside `server.port_range`: a
 * foreign listener on a client's port keeps that client out (fail); on a
 * free port it only shrinks the range (warn).
 */
export async function checkPortRange(context: ServerContext): Promise<Finding> {
  const { config, configFile } = context;
  const range = parseRange(config.port_range)!;
  const inside = (port: number) => port >= range.first && port <= range.last;
  const rangeText = `server.port_range ${config.port_range}`;
  const clashing = PORTS.filter(({ key }) => inside(config[key]));
  if (clashing.length) {
    const names = clashing.map(({ key }) => `server.${key} ${config[key]}`).join(", ");
    return fail(`${names} lies inside ${rangeText}`, `set server.port_range in "${configFile}" to a range without ${names}`);
  }
  let owners = new Map<number, number>();
  try {
    const registry = await readRegistry(context);
    owners = new Map(registry.list().map((c) => [c.port, c.id]));
  } catch {
    // an unreadable registry is the "registry" check's to report
  }
  const sessions = petitProcesses(context).sessions;
  const byPort = new Map<number, number[]>();
  for (const listener of listenersOf(context)) {
    if (!inside(listener.port) || !addressesClash("127.0.0.1", listener.address)) continue;
    const foreign = holdersOf([listener]).filter((pid) => !sessions.has(pid));
    if (foreign.length) byPort.set(listener.port, [...new Set([...(byPort.get(listener.port) ?? []), ...foreign])]);
  }
  if (byPort.size === 0) return ok(`nothing but petit's sshd sessions listens in ${config.port_range} (${owners.size} client port(s) assigned)`);
  const taken = [...byPort].filter(([port]) => owners.has(port));
  const describe = ([port, pids]: [number, number[]]) =>
    `port ${port}${owners.has(port) ? ` (client ${owners.get(port)}'s)` : ""} is held by ${pids.map(describePid).join(", ")}`;
  const list = [...byPort].slice(0, 5).map(describe).join("; ") + (byPort.size > 5 ? `; and ${byPort.size - 5} more` : "");
  const pids = [...new Set([...byPort.values()].flat())].join(" ");
  if (taken.length) {
    return fail(`${list}: that client cannot open its tunnel`, `stop what holds the port (kill ${pids}), or move it out of ${rangeText}`);
  }
  return warn(`${list}: the relay skips such ports`, `stop it (kill ${pids}), or set server.port_range in "${configFile}" to a range nothing else uses`);
}

/** The port checks, in report order. */
export const serverPortChecks: Check<ServerContext>[] = [
  ...PORTS.map(({ key, what }) => ({ name: `port-${key.replace(/_port$/, "")}`, run: checkPort(key, what) })),
  { name: "port-range", run: checkPortRange },
];
