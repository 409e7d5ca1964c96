/**
 * Ends tunnel sessions that forward nothing. A petit client's session opens
 * its reverse forward right after it logs in; an authenticated session that
 * holds no listening port after SESSION_GRACE_MS is no tunnel — a second
 * session of a key, a revoked client's session still waiting to bind its old
 * port, a key used by hand — and is ended. So a key never holds more sessions
 * than it has ports (sshd lets one listener bind a port), and a session kept
 * open without a forward cannot claim a port later (its permitlisten was fixed
 * at login). Only kernel facts are read (/proc): nothing a peer writes.
 * @module
 */
import { setImmediate } from "node:timers/promises";
import { READS_PER_TURN, readParentMap, realUid } from "../../proc/process.ts";
import { signal } from "../../proc/signal.ts";
import { pidsHoldingSockets, readLoopbackListeners } from "../../proc/sockets.ts";
import { uidOf } from "./tunnel-user.ts";

/**
 * How long an sshd connection may go without a listening port before it is
 * ended: longer than sshd's LoginGraceTime (sshd ends unauthenticated
 * connections itself by then), and far longer than a client needs between
 * login and forward (milliseconds).
 */
export const SESSION_GRACE_MS = 30_000;

/** How often the sweeper looks. Each look reads /proc/PID/stat once for every process. */
const SWEEP_INTERVAL_MS = 10_000;
/** A connection once seen forwarding is looked at again only this often (its file descriptors are the costly part). */
const RECHECK_MS = 60_000;

/** Settings of the sweeper. */
export interface SweepOptions {
  /** PID of the sshd listener whose per-connection children are looked at. */
  sshdPid: () => number | undefined;
  /** The account tunnels log in as: a connection with a process of this account has authenticated. */
  tunnelUser: string;
  log: (line: string) => void;
}

/** Finds and ends sshd connections that have held no listening port for too long. */
export class SessionSweeper {
  #firstSeen = new Map<number, number>();
  /** Connections seen holding a port, with when they were last looked at. */
  #forwarding = new Map<number, number>();
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #tunnelUid: number | undefined;

  constructor(private readonly options: SweepOptions) {
    this.#tunnelUid = uidOf(options.tunnelUser);
  }

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = true;
      this.sweep().catch((error) => this.options.log(`sshd: session sweep failed: ${(error as Error).message}`))
        .finally(() => (this.#running = false));
    }, SWEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * Ends the idle connections now and returns their PIDs. `now: true` (after a
   * revoke) ends every authenticated one without a listener at once, where the
   * tunnel account tells authenticated from not (sshd runs as another user).
   */
  async sweep(options: { now?: boolean } = {}): Promise<number[]> {
    const sshd = this.options.sshdPid();
    if (!sshd) return [];
    const listeners = new Set((await readLoopbackListeners()).map((l) => l.inode));
    const connections = connectionTrees(sshd, await readParentMap());
    const sshdUid = realUid(sshd);
    // Where sshd and the tunnels run as one account, a process's owner says nothing about login: wait for the grace.
    const uidTells = this.#tunnelUid !== undefined && this.#tunnelUid !== sshdUid;
    const now = Date.now();
    const ended: number[] = [];
    let looked = 0;
    for (const [pid, tree] of connections) {
      // Each look reads the tree's /proc entries: let the proxy run between slices of them.
      if (++looked % (READS_PER_TURN / 4) === 0) await setImmediate();
      const since = this.#firstSeen.get(pid) ?? now;
      this.#firstSeen.set(pid, since);
      const checked = this.#forwarding.get(pid);
      if (!options.now && checked !== undefined && now - checked < RECHECK_MS) continue;
      if (!options.now && now - since < SESSION_GRACE_MS) continue;
      const authenticated = uidTells ? tree.some((p) => realUid(p) === this.#tunnelUid) : undefined;
      if (authenticated === false) continue;
      if (options.now && !authenticated && now - since < SESSION_GRACE_MS) continue;
      if (pidsHoldingSockets(listeners, tree).length > 0) {
        this.#forwarding.set(pid, now);
        continue;
      }
      this.options.log(`sshd: ending session ${pid}: logged in ${Math.round((now - since) / 1000)} s ago or more and forwards no port`);
      for (const p of tree) signal(p, "SIGTERM");
      ended.push(pid);
    }
    for (const pid of this.#firstSeen.keys()) if (!connections.has(pid)) this.#firstSeen.delete(pid);
    for (const pid of this.#forwarding.keys()) if (!connections.has(pid)) this.#forwarding.delete(pid);
    return ended;
  }
}

/** Returns each direct child of `sshd` (one per connection) with its whole process tree, itself included. */
function connectionTrees(sshd: number, parents: Map<number, number | undefined>): Map<number, number[]> {
  const trees = new Map<number, number[]>();
  for (const pid of parents.keys()) {
    // Walk up to the child of sshd this process descends from, if any.
    let child = pid;
    for (let hops = 0, p = parents.get(pid); p && hops < 64; child = p, p = parents.get(p), hops++) {
      if (p === sshd) {
        trees.set(child, [...(trees.get(child) ?? []), pid]);
        break;
      }
    }
  }
  return trees;
}

/** The real uid of `pid`, or undefined when it is gone. */
