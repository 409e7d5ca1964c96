/**
 * Keeps the tunnel's ssh running: spawns it, knows when the forward is up,
 * restarts it on every exit with backoff, and says why each time.
 * @module
 */
import type { ResultPromise } from "execa";
import { DEFAULT_BACKOFF, retryDelay } from "./backoff.ts";
import type { TunnelState, TunnelStatus } from "../protocol/client-status.ts";
import { classifyExit } from "./classify.ts";
import { watchForRelay } from "./relay-watch.ts";
import { askRelease, nextAttempt } from "./retry-plan.ts";
import { startSshRun } from "./ssh-run.ts";
import type { SupervisorOptions } from "./supervisor-options.ts";

/** Supervises one ssh process. */
export class TunnelSupervisor {
  #state: TunnelState = "stopped";
  #child: ResultPromise | undefined;
  #connectedAt: number | undefined;
  #failures = 0;
  /** Forward refusals in a row. */
  #refusals = 0;
  /** Relays tried since the last connection (failover). */
  #hops = 0;
  #restarts = 0;
  #lastError: string | null = null;
  #retryAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #listeners = new Set<() => void>();
  /** Set while update() restarts ssh; pause() and stop() clear it to cancel the new start. */
  #restarting = false;

  constructor(private readonly options: SupervisorOptions) {}

  /** Starts the first attempt, or (`paused`) waits in state "paused" for resume(). */
  start(options: { paused?: boolean } = {}): void {
    if (this.#state !== "stopped") return;
    if (!options.paused) return this.#spawn();
    this.#state = "paused";
    this.#emit();
  }

  /**
   * Tries now: while retrying or after an error, a new attempt starts at once
   * instead of after the backoff; connected or connecting, nothing changes.
   * A paused tunnel stays paused (resume() ends a pause).
   */
  retryNow(): void {
    if (this.#state !== "retrying" && this.#state !== "error") return;
    clearTimeout(this.#timer);
    this.options.log("tunnel: retrying now, on request");
    this.#spawn();
  }

  /** Stops ssh and stays stopped; resolves once ssh has exited. */
  async stop(): Promise<void> {
    this.#restarting = false;
    await this.#halt("stopped");
  }

  /** Stops ssh and waits in state "paused" until resume(); idempotent. */
  async pause(): Promise<void> {
    const restarting = this.#restarting;
    this.#restarting = false;
    if ((this.#state === "paused" && !restarting) || this.#state === "stopped") return;
    this.options.log("tunnel: paused on request (ssh stopped until resumed)");
    await this.#halt("paused");
  }

  /** Ends a pause: a new ssh starts at once. Does nothing unless paused. */
  resume(): void {
    if (this.#state !== "paused" || this.#restarting) return;
    this.options.log("tunnel: resumed on request");
    this.#spawn();
  }

  /**
   * Replaces ssh's arguments (a changed target); a running or retrying ssh is
   * restarted with them now, the daemon itself goes on. Paused, stopped or
   * in error, they are used at the next start.
   */
  async update(args: string[]): Promise<void> {
    this.options.args = args;
    if (this.#state === "paused" || this.#state === "stopped" || this.#state === "error") return;
    this.options.log("tunnel: settings changed; restarting ssh");
    this.#restarting = true;
    await this.#halt("paused");
    if (!this.#restarting) return;
    this.#restarting = false;
    this.#spawn();
  }

  async #halt(state: "stopped" | "paused"): Promise<void> {
    this.#state = state;
    this.#retryAt = undefined;
    this.#connectedAt = undefined;
    clearTimeout(this.#timer);
    const child = this.#child;
    if (!child) return this.#emit();
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 3_000);
    await child.catch(() => undefined);
    clearTimeout(killer);
    if (this.#child === child) {
      this.#child = undefined;
      this.options.onSpawn?.(undefined);
    }
    this.#emit();
  }

  /** Calls `listener` on every change of state. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  status(): TunnelStatus {
    return {
      state: this.#state,
      connected_since: this.#connectedAt ? new Date(this.#connectedAt).toISOString() : null,
      restarts: this.#restarts,
      last_error: this.#lastError,
      next_retry_at: this.#retryAt ? new Date(this.#retryAt).toISOString() : null,
      ssh_pid: this.#child?.pid ?? null,
    };
  }

  #spawn(): void {
    const o = this.options;
    this.#state = "connecting";
    this.#retryAt = undefined;
    const child: ResultPromise = startSshRun({
      sshPath: o.sshPath, args: o.args, connectTimeoutMs: o.connectTimeoutMs ?? 30_000, log: o.log,
      onReady: () => {
        // A run that was stopped, paused or replaced meanwhile is not this tunnel's news.
        if (this.#child !== child || this.#state !== "connecting") return;
        this.#state = "connected";
        this.#connectedAt = Date.now();
        this.#lastError = null;
        this.#hops = 0;
        o.log(`tunnel: connected (ssh pid ${child.pid})`);
        this.#emit();
        o.onConnected?.();
      },
      onExit: (exitCode, signal, stderr) => this.#exited(child, exitCode, signal, stderr),
    });
    this.#child = child;
    o.onSpawn?.(child.pid);
    this.#emit();
  }

  #exited(child: ResultPromise, exitCode: number | null, signal: string | null, stderr: string[]): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    this.options.onSpawn?.(undefined);
    if (this.#state === "stopped" || this.#state === "paused") return;
    const o = this.options;
    const upFor = this.#connectedAt && this.#state === "connected" ? Date.now() - this.#connectedAt : 0;
    this.#connectedAt = undefined;
    if (upFor >= (o.stableMs ?? 60_000)) this.#failures = 0;
    this.#failures++;
    this.#restarts++;
    const reason = classifyExit(exitCode, signal, stderr);
    o.onExit?.(reason, upFor / 1000);
    const backoff = o.backoff ?? DEFAULT_BACKOFF;
    // An old session of ours still holds the port: the relay ends it when we ask
    // (signed with our key), so the first retry after a refusal comes within a
    // second; further refusals in a row back off as usual.
    this.#refusals = reason.forwardRefused ? this.#refusals + 1 : 0;
    if (reason.refusedPort !== undefined) askRelease(o, reason.refusedPort);
    const attempt = this.#refusals === 1 ? Math.min(this.#failures, 2) : this.#failures;
    const delay = nextAttempt(o, reason, reason.retryable ? retryDelay(attempt, backoff) : backoff.fatal, this.#hops++);
    this.#lastError = reason.message;
    this.#state = reason.retryable ? "retrying" : "error";
    this.#retryAt = Date.now() + delay;
    o.log(`tunnel: ${reason.message}; retry ${this.#failures} in ${(delay / 1000).toFixed(1)} s` +
      (reason.network && o.probe ? " or as soon as the relay is reachable again" : ""));
    const timer = setTimeout(() => this.#spawn(), delay);
    this.#timer = timer;
    if (reason.network && o.probe) {
      void watchForRelay(o.probe, () => this.#timer === timer && this.#state === "retrying", reason.unreachable === true, () => {
        clearTimeout(timer);
        // A little jitter so clients that lost the relay together do not all return in the same instant.
        const jitter = Math.random() * 1_000;
        o.log(`tunnel: relay reachable again; retrying in ${(jitter / 1000).toFixed(1)} s`);
        this.#timer = setTimeout(() => this.#spawn(), jitter);
      });
    }
    this.#emit();
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}

