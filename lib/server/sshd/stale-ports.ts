/**
 * Ending the sshd sessions that hold relay ports: a stale session of a client
 * that reconnected (on the client's signed request, see api/port-release.ts),
 * and every session of a revoked client.
 * @module
 */
import { descendantsOf } from "../../proc/process.ts";
import { signal } from "../../proc/signal.ts";
import { listeningInodes, pidsHoldingSockets } from "../../proc/sockets.ts";
import type { SessionSweeper } from "./session-sweep.ts";

/**
 * Ends every session a revoked client may still have under `sshdPid`: those
 * listening on any of its `ports`, and — since a session of its key that has
 * not bound a port yet could bind one later — every logged-in session that
 * forwards nothing. Returns the PIDs signalled.
 */
export async function endRevokedSessions(ports: number[], sshdPid: number, sweeper: SessionSweeper): Promise<number[]> {
  // The sweep first: it passes over sessions that hold a port, which are then ended by port (each counted once).
  const idle = await sweeper.sweep({ now: true });
  return [...idle, ...ports.flatMap((port) => endSessionsOnPort(port, sshdPid))];
}

/**
 * Ends (SIGTERM) the sessions of the sshd listener `sshdPid` that listen on
 * 127.0.0.1:`port`, calling `before(pid)` for each. Processes outside that
 * sshd's tree are never touched. Returns the PIDs signalled.
 */
export function endSessionsOnPort(port: number, sshdPid: number, before: (pid: number) => void = () => {}): number[] {
  const holders = pidsHoldingSockets(listeningInodes(port), descendantsOf(sshdPid));
  for (const pid of holders) {
    before(pid);
    signal(pid, "SIGTERM");
  }
  return holders;
}
