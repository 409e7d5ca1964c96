/**
 * The argv of the client's `ssh -R`. Pure: no I/O, so it is unit-tested
 * argument by argument.
 * @module
 */
import { RELAY_HOST_KEY_ALIAS } from "../constants.ts";

/** What the tunnel's ssh needs to know. */
export interface TunnelSpec {
  host: string;
  port: number;
  user: string;
  keyFile: string;
  knownHostsFile: string;
  /** Reverse forwards: relay port → local target. */
  forwards: { relayPort: number; targetHost: string; targetPort: number }[];
  keepaliveInterval: number;
  keepaliveCount: number;
  /** Prefer AES-GCM (faster where the CPU has AES instructions). */
  preferAes: boolean;
}

/** Returns ssh's arguments (without the program name) for `spec`. */
export function tunnelArgs(spec: TunnelSpec): string[] {
  const options: Record<string, string | number> = {
    // Ignore ~/.ssh/config and agents: the tunnel must behave the same for every user.
    IdentitiesOnly: "yes",
    IdentityAgent: "none",
    BatchMode: "yes",
    // Pin the relay's host key under a fixed alias, in petit's own file.
    HostKeyAlias: RELAY_HOST_KEY_ALIAS,
    UserKnownHostsFile: spec.knownHostsFile,
    GlobalKnownHostsFile: "/dev/null",
    StrictHostKeyChecking: "yes",
    UpdateHostKeys: "no",
    // ExitOnForwardFailure so a taken or refused port fails fast instead of hanging.
    ExitOnForwardFailure: "yes",
    ServerAliveInterval: spec.keepaliveInterval,
    ServerAliveCountMax: spec.keepaliveCount,
    ConnectTimeout: 10,
    RequestTTY: "no",
    ForwardAgent: "no",
    ForwardX11: "no",
    ControlMaster: "no",
    ControlPath: "none",
    // INFO, not ERROR: only at INFO does ssh say why it quit ("Timeout, server
    // … not responding."), which the supervisor reads to tell a dead link.
    LogLevel: "INFO",
  };
  if (spec.preferAes) {
    options.Ciphers = "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-gcm@openssh.com";
  }
  const args = ["-F", "none", "-i", spec.keyFile, "-p", String(spec.port), "-l", spec.user];
  for (const [name, value] of Object.entries(options)) args.push("-o", `${name}=${value}`);
  for (const f of spec.forwards) {
    const target = f.targetHost.includes(":") ? `[${f.targetHost}]` : f.targetHost;
    args.push("-R", `127.0.0.1:${f.relayPort}:${target}:${f.targetPort}`);
  }
  // No -N and no command: the relay's forced command keeps a session open,
  // which is what makes sshd set TCP_NODELAY (see OPENSSH_NOTES: the -N trap).
  // "--" so a host name can never be read as an option.
  args.push("--", spec.host);
  return args;
}
