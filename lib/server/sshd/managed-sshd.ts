/**
 * Runs and supervises the relay's own stock sshd (`sshd -D -e -f CONFIG`).
 * sshd runs in its own process group with its log in a file, so it — and
 * every open tunnel — outlives a crash of petit-serverd; the next
 * petit-serverd adopts it through its pid file instead of fighting it for the port.
 * @module
 */
import { execa } from "execa";
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from "node:fs";
import { ensureKeyPair } from "../../ssh/keygen.ts";
import { renderSshdConfig, type SshdSettings } from "../../ssh/sshd-config.ts";
import { lastLines } from "../../daemon/log-tail.ts";
import { writeFileAtomic } from "../../fs-atomic.ts";
import { childPids, commandLine, isAlive, readPidFile, startTime } from "../../proc/process.ts";
import { terminate } from "../../proc/signal.ts";
import { waitForPort } from "../../proc/sockets.ts";
import type { SshdBackend } from "./backend.ts";

/** Files and settings of the managed sshd. */
export interface SshdOptions extends SshdSettings {
  sshdPath: string;
  configFile: string;
  logFile: string;
  log: (line: string) => void;
}

/** An sshd that dies within this long of its start died of something a restart alone may not fix. */
const QUICK_DEATH_MS = 10_000;
/** The longest wait between restarts of an sshd that keeps dying. */
const RESTART_DELAY_CAP_MS = 30_000;

/** The last two non-empty lines of `file` (sshd says what failed, then that it gives up), or "" when it cannot be read. */
function lastLogLines(file: string): string {
  try {
    return lastLines(file, 4).text.split("\n").map((line) => line.trim()).filter(Boolean).slice(-2).join(" / ");
  } catch {
    return "";
  }
}

/** The managed sshd: started or adopted, restarted when it dies, stopped on request. */
export class ManagedSshd implements SshdBackend {
  #pid: number | undefined;
  /** When #pid started (/proc), so a reused number is not taken for our sshd. */
  #pidStarted: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #restarts = 0;
  #startedAt = 0;
  /** Deaths in a row, each soon after its start (see #check). */
  #quickDeaths = 0;
  /** When a delayed restart is due; undefined when none waits. */
  #restartAt: number | undefined;

  constructor(private readonly options: SshdOptions) {}

  /**
   * Why sshd cannot be counted on though one runs: it keeps exiting soon
   * after its start (its port taken, say), and the one started last has not
   * lasted QUICK_DEATH_MS yet. /readyz says so.
   */
  get failing(): string | undefined {
    if (this.#quickDeaths === 0 || Date.now() - this.#startedAt >= QUICK_DEATH_MS) return undefined;
    return `sshd is not running steadily: it exited ${this.#quickDeaths} time(s) soon after its start (see ${this.options.logFile})`;
  }

  /** True when start() found sshd already running (left by an earlier petit-serverd). */
  adopted = false;

  /**
   * PID of the listening sshd, when it runs (not while a restart waits). A
   * live process with that number must also have started when ours did:
   * PIDs are reused (within seconds where pid_max is 32768 and much forks).
   */
  get pid(): number | undefined {
    const pid = this.#pid;
    return pid && isAlive(pid) && startTime(pid) === this.#pidStarted ? pid : undefined;
  }

  /** Writes the config, checks it with `sshd -t`, then adopts a running sshd or starts one; resolves once it listens. */
  async start(): Promise<void> {
    const o = this.options;
    await ensureKeyPair(o.hostKey, "petit-relay");
    const text = renderSshdConfig(o);
    const previous = existsSync(o.configFile) ? readFileSync(o.configFile, "utf8") : undefined;
    writeFileAtomic(o.configFile, text, 0o600);
    if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    const test = await execa(o.sshdPath, ["-t", "-f", o.configFile], { reject: false, stdin: "ignore" });
    if (test.exitCode !== 0) {
      throw new Error(`sshd refused the generated config "${o.configFile}": ${test.stderr.trim()}`);
    }
    const running = this.#adoptable();
    if (running) {
      this.#pid = running;
      this.#pidStarted = startTime(running);
      this.adopted = true;
      o.log(`sshd: adopted running sshd pid ${running}`);
      // A changed config (new port, new user) is picked up by a reload; open tunnels survive it.
      if (previous !== text) process.kill(running, "SIGHUP");
    } else {
      this.#spawn();
    }
    await waitForPort({ name: "sshd", host: o.listen, port: o.port, timeoutMs: 5_000, alive: () => this.#pid !== undefined && isAlive(this.#pid) });
    this.#timer = setInterval(() => this.#check(), 1_000);
    this.#timer.unref();
  }

  /** Stops sshd and the tunnel sessions it forked. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    if (this.#pid) await stopSshdTree(this.#pid);
    this.#pid = undefined;
  }

  /** Stops watching sshd but leaves it and its tunnels running, for the next petit-serverd to adopt. */
  release(): void {
    this.#stopping = true;
    clearInterval(this.#timer);
  }

  /** The relay's own host public key line. */
  hostKeyFile(): string {
    return this.options.hostKey;
  }

  hostKey(): string {
    return readFileSync(`${this.options.hostKey}.pub`, "utf8").trim();
  }

  /** Returns the PID of an sshd already running with our config, if any. */
  #adoptable(): number | undefined {
    return runningSshd(this.options.pidFile, this.options.configFile);
  }

  #spawn(): void {
    const o = this.options;
    const logFd = openSync(o.logFile, "a", 0o600);
    // Detached, with its log written straight to the file (not through a pipe
    // to us): sshd and its sessions survive petit-serverd's death. execa passes
    // a file descriptor through; its types only list fds 3-9.
    const fd = logFd as unknown as 3;
    const child = execa(o.sshdPath, ["-D", "-e", "-f", o.configFile], {
      detached: true, stdin: "ignore", stdout: fd, stderr: fd, reject: false,
    });
    closeSync(logFd);
    child.catch(() => undefined);
    child.unref();
    this.#pid = child.pid;
    this.#pidStarted = child.pid ? startTime(child.pid) : undefined;
    this.#startedAt = Date.now();
    o.log(`sshd: started pid ${child.pid} on ${o.listen}:${o.port}`);
  }

  /**
   * Runs every second: restarts sshd when it died. At once the first time;
   * an sshd that keeps dying soon after its start (its port taken, say) is
   * restarted after 2, 4 … 30 s instead of every second, with its last log
   * line saying why.
   */
  #check(): void {
    if (this.#stopping) return;
    if (this.#restartAt !== undefined) {
      if (Date.now() < this.#restartAt) return;
      this.#restartAt = undefined;
      return this.#spawn();
    }
    if (this.pid !== undefined) return;
    const quick = Date.now() - this.#startedAt < QUICK_DEATH_MS;
    this.#quickDeaths = quick ? this.#quickDeaths + 1 : 0;
    const delay = this.#quickDeaths <= 1 ? 0 : Math.min(RESTART_DELAY_CAP_MS, 1_000 * 2 ** (this.#quickDeaths - 1));
    this.#restarts++;
    const why = quick ? `, ${Math.round((Date.now() - this.#startedAt) / 100) / 10} s after its start: "${lastLogLines(this.options.logFile)}"` : "";
    this.options.log(`sshd: pid ${this.#pid} exited${why}; restarting ${delay ? `in ${delay / 1000} s` : "now"} ` +
      `(restart ${this.#restarts}, see ${this.options.logFile})`);
    // Forgotten: the number may soon belong to another process.
    this.#pid = undefined;
    if (delay) this.#restartAt = Date.now() + delay;
    else this.#spawn();
  }
}

/**
 * Stops the sshd listener `pid` and the sessions it forked (they would
 * otherwise outlive it and keep their ports): SIGTERM, then SIGKILL after 3 s.
 */
export async function stopSshdTree(pid: number): Promise<void> {
  await terminate([pid, ...childPids(pid)], 3_000);
}

/** Returns the PID of the sshd in `pidFile` when it runs with `configFile`. */
export function runningSshd(pidFile: string, configFile: string): number | undefined {
  const pid = readPidFile(pidFile);
  return pid && commandLine(pid)?.some((arg) => arg.includes(configFile)) ? pid : undefined;
}
