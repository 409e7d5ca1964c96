/**
 * petit-clientd: supervises the tunnel's ssh and answers the local command
 * port (status now; pause, resume and the web console later).
 * @module
 */
import { readFileSync, rmSync } from "node:fs";
import { canConnect } from "../net.ts";
import type { ClientConfig } from "../config/schema.ts";
import { parseHostPort } from "../config/schema.ts";
import { createControlServer } from "../daemon/control-server.ts";
import { claimPidFile } from "../daemon/pid-file.ts";
import { writeFileAtomic } from "../fs-atomic.ts";
import { close, listen } from "../http/listen.ts";
import type { ClientPaths } from "../paths.ts";
import { commandLine, readPidFile } from "../proc.ts";
import { ensureSecret } from "../secrets.ts";
import { tunnelArgs } from "../ssh/tunnel-args.ts";
import { TunnelSupervisor, type TunnelStatus } from "./supervisor.ts";

/** What `petit status` shows. */
export interface ClientStatus extends TunnelStatus {
  id: number;
  name: string;
  port: number;
  public_host: string;
  public_url: string;
  target: string;
  relay: string;
  pid: number;
  uptime_seconds: number | null;
}

/** A running client daemon. */
export interface RunningClient {
  supervisor: TunnelSupervisor;
  stop(): Promise<void>;
}

/** Starts the command port and the tunnel supervisor. */
export async function startClientDaemon(
  config: ClientConfig, paths: ClientPaths, log: (line: string) => void,
): Promise<RunningClient> {
  const secret = ensureSecret(paths.controlSecret);
  const target = parseHostPort(config.target)!;
  const supervisor = new TunnelSupervisor({
    sshPath: config.ssh_path,
    args: tunnelArgs({
      host: config.ssh_host, port: config.ssh_port, user: config.ssh_user,
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
    }),
    log,
    probe: () => canConnect(config.ssh_host, config.ssh_port, 1_000),
    onSpawn: (pid) => (pid ? writeFileAtomic(paths.sshPid, `${pid}\n`, 0o644) : rmSync(paths.sshPid, { force: true })),
  });
  const status = (): ClientStatus => {
    const s = supervisor.status();
    return {
      ...s, id: config.id, name: config.name, port: config.port, public_host: config.public_host, public_url: config.public_url,
      target: config.target, relay: config.relay, pid: process.pid,
      uptime_seconds: s.connected_since ? Math.round((Date.now() - Date.parse(s.connected_since)) / 1000) : null,
    };
  };
  const control = createControlServer(secret, { "GET /v1/status": status }, log);
  // Binding the command port is the lock that keeps a second daemon out.
  await listen(control, "127.0.0.1", config.control_port, "the client command port");
  const releasePid = claimPidFile(paths.daemonPid);
  killOrphanSsh(paths, log);
  supervisor.start();
  log(`petit-clientd ${process.pid}: tunnel ${config.ssh_host}:${config.ssh_port} port ${config.port} → ${config.target}`);
  return {
    supervisor,
    async stop() {
      await supervisor.stop();
      await close(control);
      releasePid();
    },
  };
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
