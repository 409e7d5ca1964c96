/**
 * Keeps the tunnel's ssh running: spawns it, knows when the forward is up,
 * restarts it on every exit with backoff, and says why each time.
 * @module
 */
import { execa, type ResultPromise } from "execa";
import { createInterface } from "node:readline";
import { READY_MARKER } from "../constants.ts";
import { DEFAULT_BACKOFF, retryDelay, type BackoffOptions } from "./backoff.ts";
import { classifyExit, type ExitReason } from "./classify.ts";

/** Where the tunnel is; "paused": ssh stopped on request (petit pause), the daemon waits for resume. */
export type TunnelState = "connecting" | "connected" | "retrying" | "error" | "paused" | "stopped";

/** A snapshot for `petit status`. */
export interface TunnelStatus {
  state: TunnelState;
  connected_since: string | null;
  restarts: number;
  last_error: string | null;
  next_retry_at: string | null;
  ssh_pid: number | null;
}

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
}

/** Supervises one ssh process. */
export class TunnelSupervisor {
  #state: TunnelState = "stopped";
  #child: ResultPromise | undefined;
  #connectedAt: number | undefined;
  #failures = 0;
  /** Forward refusals in a row. */
  #refusals = 0;
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
    // stdin stays an open pipe for the daemon's whole life: the relay's forced
    // command waits for its end, so the session dies with this process.
    const child = execa(o.sshPath, o.args, {
      stdin: "pipe", stdout: "pipe", stderr: "pipe", buffer: false, reject: false, cleanup: true,
    });
    this.#child = child;
    o.onSpawn?.(child.pid);
    const stderr: string[] = [];
    createInterface({ input: child.stderr! }).on("line", (line) => {
      stderr.push(line);
      if (stderr.length > 20) stderr.shift();
      o.log(`ssh: ${line}`);
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.trim() === READY_MARKER && this.#child === child && this.#state === "connecting") {
        this.#state = "connected";
        this.#connectedAt = Date.now();
        this.#lastError = null;
        o.log(`tunnel: connected (ssh pid ${child.pid})`);
        this.#emit();
      }
    });
    let timedOut = false;
    const watchdog = setTimeout(() => {
      if (this.#child === child && this.#state === "connecting") {
        o.log(`tunnel: not connected after ${(o.connectTimeoutMs ?? 30_000) / 1000} s; killing ssh to retry`);
        timedOut = true;
        child.kill("SIGKILL");
      }
    }, o.connectTimeoutMs ?? 30_000);
    child.then((result) => {
      clearTimeout(watchdog);
      // Wait a tick so the last stderr lines are read before classifying.
      if (timedOut) stderr.push("Connection timed out: not connected within the connect timeout");
      setImmediate(() => this.#exited(child, result.exitCode ?? null, timedOut ? null : result.signal ?? null, stderr));
    });
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
    // The relay ends a stale session holding this client's port as soon as it
    // refuses the forward (StalePortReaper), so the first retry after a refusal
    // comes within a second; further refusals in a row back off as usual.
    this.#refusals = reason.forwardRefused ? this.#refusals + 1 : 0;
    const attempt = this.#refusals === 1 ? Math.min(this.#failures, 2) : this.#failures;
    const delay = reason.retryable ? retryDelay(attempt, backoff) : backoff.fatal;
    this.#lastError = reason.message;
    this.#state = reason.retryable ? "retrying" : "error";
    this.#retryAt = Date.now() + delay;
    o.log(`tunnel: ${reason.message}; retry ${this.#failures} in ${(delay / 1000).toFixed(1)} s` +
      (reason.network && o.probe ? " or as soon as the relay is reachable again" : ""));
    this.#timer = setTimeout(() => this.#spawn(), delay);
    if (reason.network && o.probe) void this.#watchNetwork(this.#timer, o.probe, reason.unreachable === true);
    this.#emit();
  }

  /**
   * While `timer` waits, probes the relay; a probe that succeeds after one that
   * failed retries now, and a first probe that succeeds ends the probing.
   * `sawDown` when ssh itself just failed to reach the relay: an ssh that was
   * still waiting on its TCP connect when the network came back then retries
   * at the first probe instead of sleeping out its backoff.
   */
  async #watchNetwork(timer: NodeJS.Timeout, probe: () => Promise<boolean>, sawDown: boolean): Promise<void> {
    while (this.#timer === timer && (this.#state === "retrying")) {
      const reachable = await probe().catch(() => false);
      if (this.#timer !== timer || this.#state !== "retrying") return;
      if (!reachable) sawDown = true;
      else if (sawDown) {
        clearTimeout(timer);
        // A little jitter so clients that lost the relay together do not all return in the same instant.
        const jitter = Math.random() * 1_000;
        this.options.log(`tunnel: relay reachable again; retrying in ${(jitter / 1000).toFixed(1)} s`);
        this.#timer = setTimeout(() => this.#spawn(), jitter);
        return;
      } else {
        // Reachable and not seen down: the timer retries. Probing on would only
        // load the relay: each probe costs its sshd a fork and exec (~10 ms of
        // CPU), and in a storm every waiting client would send one a second.
        return;
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}
