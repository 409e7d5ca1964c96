/**
 * Fuzzing a real relay: 11,000 generated bad inputs, half to the
 * registration API and half to the proxy, 32 at a time. Every one must be
 * refused (a 4xx, or the connection closed by the relay) within 5 s, and
 * afterwards petit-serverd must be the same process, still registering and
 * proxying, with its files unchanged. None of the inputs is a valid request:
 * API inputs carry either a valid proof and a body that must not register,
 * or a broken proof; proxy inputs name hosts with no tunnel, or (a third of
 * them) the real tunnel with its token and one break of RFC 9112 that only
 * the proxy's parser stands in the way of: those get 400 or 431, and the
 * service never sees one.
 * Replay a run with PETIT_FUZZ_SEED=<seed> (printed on the FUZZ line).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { DOMAIN, registerClient, startRelay, viaProxy, type Client, type Relay } from "../helpers/fixture.ts";
import { classify, exchange, fuzzSeed, isRefusal, keyLine, Rng, runPool, type Outcome } from "../helpers/fuzz.ts";
import { apiRequest, proxyRequest, type FuzzInput } from "../helpers/fuzz-http.ts";
import { parserRequest } from "../helpers/fuzz-parser.ts";
import { startOrigin } from "../helpers/origin.ts";
import { registrationHeaders } from "../helpers/signing-keys.ts";

const INPUTS = 11_000;
const REPLAYS = 200;
const CONCURRENCY = 32;
const TIMEOUT_MS = 5_000;
/** No new input starts after this; the test fails if fewer than 10,000 ran by then (a quiet machine needs about half; a busy one, with both cores taken, more). */
const BUDGET_MS = 120_000;

/** registry.json without last_seen, which the presence monitor rewrites while the client is connected. */
function registryWithoutTimes(home: string): string {
  const data = JSON.parse(readFileSync(join(home, "server/registry.json"), "utf8"));
  for (const client of data.clients) client.last_seen = null;
  return JSON.stringify(data);
}

function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("fuzzing the relay", () => {
  let relay: Relay;
  let client: Client;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let originRequests = 0;

  before(async () => {
    origin = await startOrigin("fuzz-origin");
    origin.server.on("request", () => originRequests++);
    relay = await startRelay({ rangeSize: 10, config: { api_failures_per_minute: 0 } });
    client = await registerClient(relay, { name: "fuzzme", target: `127.0.0.1:${origin.port}` });
    await client.up();
  });
  after(async () => {
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  test("11,000 generated bad inputs to the API and the proxy are all refused, and the relay still serves", { timeout: 200_000 }, async () => {
    const seed = fuzzSeed();
    const root = new Rng(seed);
    const pid = Number(readFileSync(join(relay.home, "server/serverd.pid"), "utf8"));
    assert.equal((await viaProxy(relay, `fuzzme.${DOMAIN}`)).status, 200, "the client is not reachable before fuzzing");
    const seenBefore = originRequests;
    const registry = registryWithoutTimes(relay.home);
    const keys = readFileSync(join(relay.home, "server/authorized_keys"));

    const byStatus: Record<string, number> = {};
    const byCode: Record<string, number> = {};
    const failures: string[] = [];
    let failed = 0;
    const record = (index: number | string, input: FuzzInput, outcome: Outcome, want?: number) => {
      const kind = classify(outcome);
      byStatus[kind] = (byStatus[kind] ?? 0) + 1;
      const final = outcome.statuses.find((s) => s >= 200);
      if (final !== undefined) byCode[final] = (byCode[final] ?? 0) + 1;
      if (isRefusal(outcome) && (want === undefined || final === want)) return;
      failed++;
      if (failures.length < 15) {
        failures.push(`#${index} ${input.kind}${input.abort === false ? "" : ` (reset after ${input.abort} ms)`}: ${kind} ` +
          `[${outcome.statuses.join(",")}] ${JSON.stringify(outcome.head.slice(0, 100))} ` +
          `for ${JSON.stringify(input.bytes.subarray(0, 200).toString("latin1"))}`);
      }
    };

    const started = Date.now();
    const replayable: { index: number; input: FuzzInput }[] = [];
    const ran = await runPool(INPUTS, CONCURRENCY, started + BUDGET_MS, async (i) => {
      const rng = root.fork(i);
      const toApi = i % 2 === 0;
      const toParser = !toApi && rng.chance(1 / 3);
      const input = toApi ? apiRequest(rng, { token: relay.token, takenName: "fuzzme" })
        : toParser ? parserRequest(rng, `fuzzme.${DOMAIN}`, client.accessToken) : proxyRequest(rng, DOMAIN);
      const outcome = await exchange(toApi ? relay.apiPort : relay.httpPort, input.bytes, { timeoutMs: TIMEOUT_MS, abort: input.abort });
      // A parser case is refused as malformed (400, or 431 for its size), or cut short by its own reset.
      const final = outcome.statuses.find((s) => s >= 200);
      record(i, input, outcome, toParser && final !== undefined ? (final === 431 ? 431 : 400) : undefined);
      // The proof was checked and its nonce kept only when the body got as far as being refused.
      if (input.replayable && (final === 400 || final === 409)) replayable.push({ index: i, input });
    }, () => failed >= 50);

    // The same request again, byte for byte, must be refused as a replay.
    const replays = replayable.sort((a, b) => a.index - b.index).slice(0, REPLAYS);
    const replayed = await runPool(replays.length, CONCURRENCY, Date.now() + 20_000, async (i) => {
      const { index, input } = replays[i];
      record(`${index} again`, input, await exchange(relay.apiPort, input.bytes, { timeoutMs: TIMEOUT_MS }), 401);
    }, () => failed >= 50);

    const line = { inputs: ran + replayed, seed, by_status: byStatus, by_code: byCode, duration_ms: Date.now() - started };
    process.stdout.write(`FUZZ ${JSON.stringify(line)}\n`);
    const log = () => readFileSync(join(relay.home, "server/serverd.log"), "utf8").slice(-3000);
    assert.ok(running(pid), `petit-serverd ${pid} died (seed ${seed}); its log ends:\n${log()}`);
    assert.equal(failed, 0, `${failed} inputs were not refused cleanly (replay with PETIT_FUZZ_SEED=${seed}):\n${failures.join("\n")}`);
    assert.ok(ran + replayed >= 10_000, `only ${ran + replayed} inputs in ${BUDGET_MS} ms`);
    assert.ok(replayed >= 50, `only ${replayed} replays`);
    assert.equal(originRequests, seenBefore, "a malformed request reached the service through the proxy");

    assert.equal(Number(readFileSync(join(relay.home, "server/serverd.pid"), "utf8")), pid, "petit-serverd was replaced");
    assert.equal(registryWithoutTimes(relay.home), registry, "registry.json changed");
    assert.ok(readFileSync(join(relay.home, "server/authorized_keys")).equals(keys), "authorized_keys changed");
    const body = JSON.stringify({ public_key: keyLine() });
    const res = await request(`${relay.apiUrl}/v1/register`, {
      method: "POST", body, headers: registrationHeaders(relay.token, body),
    });
    const answer = await res.body.text();
    assert.equal(res.statusCode, 201, answer);
    assert.equal((await viaProxy(relay, `fuzzme.${DOMAIN}`)).status, 200, "the client is not reachable after fuzzing");
  });
});
