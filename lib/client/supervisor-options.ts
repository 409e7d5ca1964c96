/**
 * What the tunnel supervisor (supervisor.ts) is given: the ssh to run, how it
 * waits between attempts, and the hooks through which the daemon hears of it.
 * @module
 */
import type { BackoffOptions } from "./backoff.ts";
import type { ExitReason } from "./classify.ts";

/** What the supervisor runs and how it waits. */
export interface SupervisorOptions {
  sshPath: string;
  args: string[];
  log: (line: string) => void;
  backoff?: BackoffOptions;
  /** A connection up this long resets the backoff. */
  stableMs?: number;
  /** An attempt not connected after this long is killed and retried. */
  connectTimeoutMs?: number;
  /**
   * Answers whether the relay's SSH port accepts TCP now. After a network
   * failure the supervisor probes every second while it waits, and retries
   * at once when a failed probe turns into a successful one (the network is
   * back), instead of sleeping out its backoff.
   */
  probe?: () => Promise<boolean>;
  /** Called with ssh's PID on each spawn (for the orphan-cleaning pid file). */
  onSpawn?: (pid: number | undefined) => void;
  /** Called on every unplanned ssh exit with its reason and how long it had been connected (for the metrics). */
  onExit?: (reason: ExitReason, upSeconds: number) => void;
  /**
   * Relays sharing a store: after a network failure the next attempt goes to
   * the next relay (`next()` gives ssh's arguments for it and its name); the
   * first round through all `count` of them comes without backoff.
   */
  failover?: { count: number; next(): { args: string[]; relay: string } };
  /** Called each time the forward is up (the daemon then asks that relay for the current relay list). */
  onConnected?: () => void;
  /** Asks the relay to end this client's old session holding `port`; called when the relay refused that forward. */
  releasePort?: (port: number) => Promise<number>;
}
