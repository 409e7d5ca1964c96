/**
 * What petit-clientd's command port answers: status, pause / resume / start
 * / stop, the recent log, and the editable part of the configuration. The
 * CLI calls it with the secret, the web console with its session.
 * @module
 */
import { readConfig, writeSection } from "../config/file.ts";
import { clientFields, type ClientConfig } from "../config/schema.ts";
import { checkValue, parseHostPort } from "../config/values.ts";
import { controlError, type ControlRoutes } from "../daemon/control-server.ts";
import type { LogRing } from "../daemon/log-ring.ts";
import { canConnect } from "../net.ts";
import type { TunnelSupervisor } from "./supervisor.ts";

/** What the routes work on. */
export interface ClientControlContext {
  supervisor: TunnelSupervisor;
  status: () => unknown;
  logs: LogRing;
  /** The settings in force now. */
  config: () => ClientConfig;
  /** config.toml, to save changes in; undefined when the daemon was not told where it is. */
  configFile: string | undefined;
  /** Applies changed settings: restarts ssh with them (the daemon goes on). */
  apply: (config: ClientConfig) => Promise<void>;
  /** Ends the daemon (as `petit down` would). */
  shutdown: () => void;
  /** Records whether the tunnel is paused, so a restarted daemon stays paused. */
  rememberPause: (paused: boolean) => void;
}

/** The settings the console may change, and how each is checked. */
const EDITABLE = ["target"] as const;

/** Returns the client daemon's control routes. */
export function clientControlRoutes(context: ClientControlContext): ControlRoutes {
  const { supervisor, status, logs, rememberPause } = context;
  const resume = () => {
    rememberPause(false);
    supervisor.resume();
    return status();
  };
  return {
    "GET /v1/status": status,
    "POST /v1/pause": async () => {
      // Recorded first: a daemon that dies while pausing must come back paused.
      rememberPause(true);
      await supervisor.pause();
      return status();
    },
    "POST /v1/resume": resume,
    "POST /v1/start": () => {
      if (supervisor.status().state === "paused") return resume();
      supervisor.retryNow();
      return status();
    },
    "POST /v1/stop": () => {
      // Answer first, then stop as SIGTERM would (petit down sends it too).
      setTimeout(context.shutdown, 50);
      return { stopping: true, pid: process.pid };
    },
    "GET /v1/logs": ({ query }) => logs.since(Number(query.get("after")) || 0),
    "GET /v1/config": () => configView(context),
    "POST /v1/config": async ({ body }) => {
      const change = validateChange(body);
      if (!context.configFile) throw controlError(409, "this daemon was started without its config file's path; edit config.toml and run \"petit down && petit up\"");
      let saved: ClientConfig | undefined;
      try {
        saved = readConfig(context.configFile).client;
      } catch (error) {
        throw controlError(409, `cannot read "${context.configFile}" to save the change: ${(error as Error).message}`);
      }
      if (!saved) throw controlError(409, `"${context.configFile}" has no [client] section any more`);
      const updated = { ...saved, ...change };
      writeSection(context.configFile, "client", updated);
      await context.apply({ ...context.config(), ...change });
      const to = parseHostPort(updated.target)!;
      return { ...configView(context), target_reachable: await canConnect(to.host, to.port, 1_000) };
    },
  };
}

function configView(context: ClientControlContext) {
  const c = context.config();
  return {
    id: c.id, name: c.name, target: c.target, relay: c.relay,
    tunnels: c.tunnel.map((t) => ({ name: t.name, target: t.target })),
    config_file: context.configFile ?? null,
    editable: EDITABLE,
  };
}

/** Checks a change from the console: only editable keys, each valid; throws a 400 naming the problem. */
function validateChange(body: unknown): Partial<Pick<ClientConfig, (typeof EDITABLE)[number]>> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw controlError(400, 'body must be a JSON object such as {"target": "127.0.0.1:8080"}');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === "name") throw controlError(400, 'the name cannot be changed here: it is part of the registration (run "petit register … --name NEW")');
    if (!(EDITABLE as readonly string[]).includes(key)) throw controlError(400, `"${key}" cannot be changed here (editable: ${EDITABLE.join(", ")})`);
    const trimmed = typeof value === "string" ? value.trim() : value;
    const expected = checkValue(clientFields[key as keyof ClientConfig], trimmed);
    if (expected) throw controlError(400, `"${key}" must be ${expected}, got ${JSON.stringify(value)}`);
    out[key] = trimmed;
  }
  if (Object.keys(out).length === 0) throw controlError(400, `nothing to change (editable: ${EDITABLE.join(", ")})`);
  return out;
}
