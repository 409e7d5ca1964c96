/**
 * Network faults, injected for real: the client lives in its own network
 * namespace, joined to the relay on the host by a veth pair, and the link is
 * black-holed (every IP packet dropped both ways, no FIN, RST or ICMP).
 * Needs root and `ip netns`; skipped with the reason otherwise.
 */
import { after, before, describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execa, type ResultPromise } from "execa";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { request } from "undici";
import { listeningInodes, pidsHoldingSockets } from "../../lib/proc/sockets.ts";
import { DOMAIN, killFromPidFile, startRelay, waitFor, type Relay } from "../helpers/fixture.ts";
import { createNetnsLink, netnsUnavailable, type NetnsLink } from "../helpers/netns.ts";
import { makeHome, petitCommand, ROOT } from "../helpers/petit.ts";

/** Port of the origin inside the namespace (the namespace is ours alone). */
const ORIGIN_PORT = 18080;
const DETECT_BOUND_MS = 20_000;
const RESTORE_BOUND_MS = 5_000;

describe("network faults", () => {
  let skipReason: string | undefined;
  let link: NetnsLink | undefined;
  let relay: Relay | undefined;
  let origin: ResultPromise | undefined;
  let home: ReturnType<typeof makeHome> | undefined;
  let clientPort = 0;
  let accessToken = "";

  /** Runs `petit ...args` inside the namespace as the client. */
  const petitInNs = (args: string[], timeout = 60_000) => {
    const [program, prefix] = petitCommand();
    const [ns, argv] = link!.exec([program, ...prefix, ...args]);
    return execa(ns, argv, { cwd: ROOT, env: { PETIT_HOME: home!.dir, NO_COLOR: "1" }, reject: false, stdin: "ignore", timeout });
  };
  const petitInNsOk = async (args: string[]): Promise<string> => {
    const result = await petitInNs(args);
    if (result.exitCode !== 0) throw new Error(`petit ${args.join(" ")} (in ${link!.ns}) exited ${result.exitCode}\n${result.stdout}\n${result.stderr}`);
    return String(result.stdout);
  };
  const tunnelState = async (): Promise<string> => JSON.parse(String((await petitInNs(["status", "--json"], 10_000)).stdout)).state;
  const portHolders = (): number[] => pidsHoldingSockets(listeningInodes(clientPort));
  const clientLog = (): string => {
    try {
      return readFileSync(join(home!.dir, "client/clientd.log"), "utf8").split("\n").slice(-40).join("\n");
    } catch {
      return "(no client log)";
    }
  };

  before(async () => {
    skipReason = await netnsUnavailable();
    if (skipReason) return;
    link = await createNetnsLink(`petit-c-${process.pid}`);
    // 0.0.0.0 so the client reaches the relay at the host's veth address
    // and the test reaches the proxy at 127.0.0.1.
    relay = await startRelay({ listen: "0.0.0.0" });
    const [ns, argv] = link.exec([process.execPath, "-e",
      `require("node:http").createServer((q, s) => s.end("origin in namespace"))` +
      `.listen(${ORIGIN_PORT}, "127.0.0.1", () => console.log("listening"))`]);
    origin = execa(ns, argv, { stdin: "ignore", reject: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the origin in the namespace did not start within 10 s")), 10_000);
      origin!.stdout!.on("data", () => { clearTimeout(timer); resolve(); });
      void origin!.then(() => { clearTimeout(timer); reject(new Error("the origin in the namespace exited")); });
    });
    home = makeHome("client");
    await petitInNsOk(["register", `http://${link.hostAddress}:${relay.apiPort}`, "--token", relay.token, "--to", `127.0.0.1:${ORIGIN_PORT}`]);
    ({ port: clientPort, access_token: accessToken } =
      parse(readFileSync(join(home.dir, "config.toml"), "utf8")).client as { port: number; access_token: string });
    await petitInNsOk(["up"]);
    await waitFor(async () => (await get(relay!, accessToken)) === 200, 10_000, "a first GET through the tunnel")
      .catch((error) => { throw new Error(`${(error as Error).message}\nclient log:\n${clientLog()}`); });
  });

  after(async () => {
    if (link && home) {
      await petitInNs(["down"], 20_000).catch(() => undefined);
      killFromPidFile(join(home.dir, "client/clientd.pid"));
      killFromPidFile(join(home.dir, "client/ssh.pid"));
    }
    if (origin?.pid) origin.kill("SIGKILL");
    await origin?.catch(() => undefined);
    await relay?.stop();
    await link?.remove();
    home?.remove();
  });

  /** PID of the client's current ssh attempt, from its pid file ("" between attempts). */
  const sshPid = (): string => {
    try {
      return readFileSync(join(home!.dir, "client/ssh.pid"), "utf8").trim();
    } catch {
      return "";
    }
  };

  /**
   * Black-holes the link, waits `outageMs` after detection (then, with
   * `sshPhaseMs`, until that long into the next ssh attempt), restores it,
   * and checks the figures.
   */
  async function blackholeFor(t: TestContext, outageMs: number, sshPhaseMs?: number): Promise<void> {
    if (skipReason) return t.skip(skipReason);
    assert.equal(await tunnelState(), "connected");
    const [holderBefore] = portHolders();
    assert.ok(holderBefore, `no process listens on the client's relay port ${clientPort} before the fault`);

    const cut = Date.now();
    let detectMs: number;
    try {
      await link!.blackhole();
      await waitFor(async () => (await tunnelState()) !== "connected", DETECT_BOUND_MS + 15_000, "the client to notice the black hole")
        .catch((error) => { throw new Error(`${(error as Error).message}\nclient log:\n${clientLog()}`); });
      detectMs = Date.now() - cut;
      await new Promise((r) => setTimeout(r, outageMs));
      if (sshPhaseMs !== undefined) {
        const previous = sshPid();
        await waitFor(() => sshPid() !== "" && sshPid() !== previous, 60_000, "the next ssh attempt");
        await new Promise((r) => setTimeout(r, sshPhaseMs));
      }
    } finally {
      await link!.restore();
    }
    const restoreMs = await firstOk(relay!, accessToken, RESTORE_BOUND_MS + 30_000)
      .catch((error) => { throw new Error(`${(error as Error).message}\nclient log:\n${clientLog()}`); });
    process.stdout.write(`RELIABILITY ${JSON.stringify({ fault: "link black-holed", detect_ms: detectMs, restore_ms: restoreMs, outage_ms: outageMs })}\n`);
    assert.ok(detectMs <= DETECT_BOUND_MS, `the client took ${detectMs} ms to notice the black hole (bound ${DETECT_BOUND_MS} ms)\nclient log:\n${clientLog()}`);
    assert.ok(restoreMs <= RESTORE_BOUND_MS, `the tunnel took ${restoreMs} ms to come back after the link (bound ${RESTORE_BOUND_MS} ms)\nclient log:\n${clientLog()}`);

    // The relay side: one session holds the client's port, and it is the new one.
    const holders = portHolders();
    assert.equal(holders.length, 1, `expected one sshd session on port ${clientPort}, found pids ${holders.join(", ") || "none"}`);
    assert.match(readFileSync(`/proc/${holders[0]}/comm`, "utf8"), /^sshd/);
    assert.notEqual(holders[0], holderBefore, "the session from before the fault still holds the port");
    assert.equal(await tunnelState(), "connected");
  }

  test("a black-holed link is noticed within 20 s and the tunnel is back within 5 s after a short outage", async (t) => {
    await blackholeFor(t, 2_000);
  });

  // The hardest moment to restore the link: ssh's TCP connect has sent its
  // last SYN before its ConnectTimeout of 10 s (Linux resends at 1, 3 and 7 s,
  // or at 1-5 and 7 s with tcp_syn_linear_timeouts), so ssh itself will not
  // notice the link is back; only the supervisor's probing can.
  test("after a long outage, deep in backoff, the tunnel is back within 5 s of the link, even mid-connect", async (t) => {
    await blackholeFor(t, 25_000, 7_500);
  });
});

/** One GET through the relay's proxy for client 1001; its status, or 0 on error or after 3 s. */
async function get(relay: Relay, token: string): Promise<number> {
  const res = await request(`http://127.0.0.1:${relay.httpPort}/`, {
    headers: { host: `1001.${DOMAIN}`, "proxy-authorization": `Bearer ${token}` }, headersTimeout: 3_000, bodyTimeout: 3_000,
  }).catch(() => undefined);
  if (!res) return 0;
  await res.body.text().catch(() => undefined);
  return res.statusCode;
}

/**
 * Starts a GET every 100 ms, each allowed 3 s (a request that reaches a dead
 * session hangs instead of failing), and resolves with the time until the
 * first 200 returns.
 */
function firstOk(relay: Relay, token: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    let done = false;
    const fire = (): void => {
      if (done) return;
      if (Date.now() - start > timeoutMs) {
        done = true;
        clearInterval(timer);
        reject(new Error(`no GET through the tunnel returned 200 within ${timeoutMs} ms of the link coming back`));
        return;
      }
      void get(relay, token).then((status) => {
        if (status !== 200 || done) return;
        done = true;
        clearInterval(timer);
        resolve(Date.now() - start);
      });
    };
    const timer = setInterval(fire, 100);
    fire();
  });
}
