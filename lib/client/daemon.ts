/**
 * petit-clientd: supervises the tunnel's ssh and answers the local command
 * port: status, pause and resume, the web console and /metrics.
 * @module
 */
import { readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { canConnect } from "../net.ts";
import type { ClientConfig } from "../config/schema.ts";
import type { ClientStatus } from "../protocol/client-status.ts";
import { parseHostPort } from "../config/values.ts";
import { controlError, createControlServer } from "../daemon/control-server.ts";
import { LogRing } from "../daemon/log-ring.ts";
import { SessionStore } from "../ui/session.ts";
import { claimPidFile } from "../daemon/pid-file.ts";
import { readFileIfExists, writeFileAtomic } from "../fs-atomic.ts";
import { close, listen } from "../http/listen.ts";
import type { ClientPaths } from "../paths.ts";
import { commandLine, readPidFile } from "../proc/process.ts";
import { ensureSecret } from "../secrets.ts";
import { tunnelArgs } from "../ssh/tunnel-args.ts";
import { CLIENT_PAGE } from "../ui/client-page.ts";
import { consoleHooks, consoleRoutes } from "../ui/serve.ts";
import { clientControlRoutes } from "./control-routes.ts";
import { ClientMetrics } from "./metrics.ts";
import { requestPortRelease } from "./release.ts";
import { TunnelSupervisor } from "./supervisor.ts";
import { RelayBook } from "./relay-book.ts";
import { endpointText } from "./relay-state.ts";
import { writeSection } from "../config/file.ts";

/** A running client daemon. */
export interface RunningClient {
  supervisor: TunnelSupervisor;
  stop(): Promise<void>;
}

/**
 * Starts the command port and the tunnel supervisor. `configFile` is where
 * the web console saves a changed target.
 */
export async function startClientDaemon(
  initial: ClientConfig, paths: ClientPaths, daemonLog: (line: string) => void, options: { configFile?: string } = {},
): Promise<RunningClient> {
  let config = initial;
  // The console shows the last lines of the log, so every line also goes to a ring in memory.
  const logs = new LogRing(200);
  const log = logs.tee(daemonLog);
  const secret = ensureSecret(paths.controlSecret);
  const metrics = new ClientMetrics();
  // The relay registered with, then the others sharing its store (failover): the tunnel uses one at a time.
  const relays = new RelayBook({
    config: () => config, paths, log,
    onRelays(next) {
      config = { ...config, relays: next };
      if (options.configFile) writeSection(options.configFile, "client", config);
    },
  });
  const supervisor = new TunnelSupervisor({
    sshPath: config.ssh_path,
    args: sshArgs(config, paths, relays.at),
    log,
    probe: () => canConnect(relays.at.host, relays.at.port, 1_000),
    failover: {
      // A getter: an accepted relay list changes how many relays there are.
      get count() {
        return relays.endpoints.length;
      },
      next() {
        const to = relays.next();
        return { args: sshArgs(config, paths, to), relay: endpointText(to) };
      },
    },
    onConnected: () => void relays.refresh(),
    onSpawn: (pid) => (pid ? writeFileAtomic(paths.sshPid, `${pid}\n`, 0o644) : rmSync(paths.sshPid, { force: true })),
    onExit: (reason, upSeconds) => metrics.exited(reason, upSeconds),
    releasePort: (port) => requestPortRelease({ relay: relays.api(), id: config.id, port, keyFile: paths.key }),
  });
  const status = (): ClientStatus => {
    const s = supervisor.status();
    return {
      ...s, id: config.id, name: config.name, port: config.port, public_host: config.public_host, public_url: config.public_url,
      target: config.target, relay: config.relay, ssh_endpoint: endpointText(relays.at), pid: process.pid,
      uptime_seconds: s.connected_since ? Math.round((Date.now() - Date.parse(s.connected_since)) / 1000) : null,
    };
  };
  const sessions = new SessionStore(`petit_client_${config.control_port}`);
  const control = createControlServer(secret, {
    ...clientControlRoutes({
      supervisor, status, logs, config: () => config, configFile: options.configFile,
      apply: async (next) => {
        config = next;
        log(`config: target is now ${next.target}`);
        await supervisor.update(sshArgs(next, paths, relays.at));
      },
      shutdown: () => process.kill(process.pid, "SIGTERM"),
      rememberPause: (paused) => {
        if (!paused) return rmSync(paths.paused, { force: true });
        try {
          writeFileAtomic(paths.paused, `${new Date().toISOString()}\n`, 0o644);
        } catch (error) {
          // Unrecorded, a pause would end at the next restart of the daemon: refuse it instead.
          throw controlError(507, `cannot record the pause in "${paths.paused}": ${(error as Error).message}; the tunnel stays up`);
        }
      },
    }),
    ...consoleRoutes(sessions, () => (control.address() as AddressInfo).port),
  }, log, consoleHooks({
    sessions, page: CLIENT_PAGE, loginCommand: "petit ui", log,
    metrics: () => metrics.render(status(), config.id),
    notReady: () => (supervisor.status().state === "connected" ? undefined : `tunnel ${supervisor.status().state}`),
  }));
  // Binding the command port is the lock that keeps a second daemon out.
  await listen(control, "127.0.0.1", config.control_port, "the client command port");
  const releasePid = claimPidFile(paths.daemonPid);
  killOrphanSsh(paths, log);
  const pausedSince = readPausedSince(paths);
  supervisor.start({ paused: pausedSince !== undefined });
  log(`petit-clientd ${process.pid}: tunnel ${endpointText(relays.endpoints[0])} port ${config.port} → ${config.target}` +
    (relays.endpoints.length > 1 ? ` (other relays: ${relays.endpoints.slice(1).map(endpointText).join(", ")})` : ""));
  if (pausedSince !== undefined) log(`tunnel: paused since ${pausedSince || "an unknown time"} (petit pause); "petit resume" brings it back`);
  return {
    supervisor,
    async stop() {
      await supervisor.stop();
      await close(control);
      releasePid();
    },
  };
}

/** When the tunnel was paused (the marker's content; "" if unreadable), or undefined when it is not paused. */
function readPausedSince(paths: ClientPaths): string | undefined {
  try {
    return readFileIfExists(paths.paused)?.trim();
  } catch {
    return "";
  }
}

/** Returns ssh's arguments for `config` to the relay's sshd at `to`: one -R per service, all on one connection. */
function sshArgs(config: ClientConfig, paths: ClientPaths, to: { host: string; port: number }): string[] {
  const target = parseHostPort(config.target)!;
  return tunnelArgs({
    host: to.host, port: to.port, user: config.ssh_user,
    keyFile: paths.key, knownHostsFile: paths.knownHosts,
    forwards: [
      { relayPort: config.port, targetHost: target.host, targetPort: target.port },
      ...config.tunnel.filter((t) => t.port).map((t) => {
        const to = parseHostPort(t.target)!;
        return { relayPort: t.port!, targetHost: to.host, targetPort: to.port };
      }),
    ],
    keepaliveInterval: config.keepalive_interval, keepaliveCount: config.keepalive_count,
    preferAes: cpuHasAes(),
  });
}

/** Ends an ssh left by a daemon that was killed (-9) before it could stop it. */
function killOrphanSsh(paths: ClientPaths, log: (line: string) => void): void {
  const pid = readPidFile(paths.sshPid);
  if (pid && commandLine(pid)?.includes(paths.key)) {
    log(`tunnel: ending ssh pid ${pid} left by a previous daemon`);
    // SIGKILL: the orphan may be stopped (SIGSTOP), and a stopped process only dies of SIGKILL.
    process.kill(pid, "SIGKILL");
  }
  rmSync(paths.sshPid, { force: true });
}

/** Tells whether the CPU has AES instructions (then AES-GCM outruns ChaCha20). */
function cpuHasAes(): boolean {
  try {
    return /^flags\s*:.*\baes\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return false;
  }
}
