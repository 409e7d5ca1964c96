/**
 * Waiting for the relay to come back after a network failure: probe it each
 * second and say when it answers again, so the tunnel retries at once
 * instead of sleeping out its backoff.
 * @module
 */

/**
 * Probes the relay every second while `waiting()` holds. Calls `back()` when
 * a probe succeeds after one that failed — or the first probe succeeds and
 * `sawDown` (ssh itself just failed to reach the relay, so it may have been
 * stuck on a TCP connect when the network came back). A first probe that
 * succeeds otherwise ends the watch: the backoff timer retries.
 */
export async function watchForRelay(
  probe: () => Promise<boolean>, waiting: () => boolean, sawDown: boolean, back: () => void,
): Promise<void> {
  while (waiting()) {
    const reachable = await probe().catch(() => false);
    if (!waiting()) return;
    if (!reachable) {
      sawDown = true;
    } else {
      if (sawDown) back();
      // Reachable and not seen down: probing on would only load the relay: each
      // probe costs its sshd a fork and exec (~10 ms of CPU), and in a storm
      // every waiting client would send one a second.
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}
