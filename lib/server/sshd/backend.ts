/**
 * The one seam between petit-serverd and whichever sshd carries the tunnels:
 * petit's own (`ManagedSshd`, the default) or the machine's (`SystemSshd`,
 * `server.ssh_mode = "system"`). The rest of the relay only needs a listener
 * PID (to end a client's sessions) and the host key clients pin.
 * @module
 */

/** An sshd that tunnels log in to. */
export interface SshdBackend {
  /** Makes sshd ready for tunnels (config written, checked, running); resolves once it listens. */
  start(): Promise<void>;
  /** Stops what petit started for tunnels and ends the tunnel sessions (`petit server down`). */
  stop(): Promise<void>;
  /** Lets go without stopping sshd or its tunnels (`petit server restart`: the next petit-serverd adopts them). */
  release(): void;
  /** PID of the sshd listener whose children are the tunnel sessions, when it runs. */
  readonly pid: number | undefined;
  /** Set while a running sshd cannot be counted on yet (it keeps exiting soon after its start): why. */
  readonly failing?: string;
  /** True when sshd was running before start() and must outlive a failed start. */
  readonly adopted: boolean;
  /** The host public key line ("TYPE BASE64 [comment]") clients pin; valid after start(). */
  hostKey(): string;
  /** The private half of that host key (the relay signs its relay list with it); valid after start(). */
  hostKeyFile(): string;
}

/** Which sshd carries the tunnels (`server.ssh_mode`). */
export type SshMode = "managed" | "system";

/** Every value `server.ssh_mode` may take. */
export const SSH_MODES: readonly SshMode[] = ["managed", "system"];
