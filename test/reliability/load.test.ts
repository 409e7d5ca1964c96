/**
 * Sustained load through the relay's proxy: one real client tunnel (the CLI's
 * petit-clientd), 64 keep-alive connections for 20 s. No request may fail and
 * petit-serverd's memory must stay flat.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Pool } from "undici";
import { DOMAIN, registerClient, startRelay, viaProxy, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { startIdentityOrigin, type IdentityOrigin } from "../helpers/identity-origin.ts";
import { loadAverage, report, rssMiB } from "../helpers/measure.ts";

const CONNECTIONS = 64;
const DURATION_MS = 20_000;
/**
 * Load before the measured 20 s. Under this load petit-serverd's V8 heap grows
 * for its first ~25 s (about 75 → 130 MiB) until the first major collections,
 * then stays flat (~112 MiB over a 90 s run): the memory check starts after this.
 */
const WARM_UP_MS = 10_000;

describe("sustained proxy load", () => {
  let relay: Relay;
  let origin: IdentityOrigin;
  let client: Client;

  before(async () => {
    origin = await startIdentityOrigin("load-origin");
    relay = await startRelay();
    client = await registerClient(relay, { name: "load", target: `127.0.0.1:${origin.port}` });
    await client.up();
    await waitFor(async () => (await viaProxy(relay, `${client.id}.${DOMAIN}`)).status === 200, 15_000, "the tunnel to answer");
  });

  after(async () => {
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  test("64 keep-alive connections for 10 s of warm-up and 20 s measured get every answer right while the relay's memory stays flat", async () => {
    const serverdPid = Number(readFileSync(join(relay.home, "server/serverd.pid"), "utf8").trim());
    const host = `${client.id}.${DOMAIN}`;
    const pool = new Pool(`http://127.0.0.1:${relay.httpPort}`, {
      connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 10_000, bodyTimeout: 10_000,
    });
    const rss: number[] = [];
    const load = loadAverage();
    let requests = 0;
    let failed = 0;
    const failures: string[] = [];
    const warmUpEnd = Date.now() + WARM_UP_MS;
    const deadline = warmUpEnd + DURATION_MS;
    let measured = { at: 0, requests: 0 };
    const sampler = setInterval(() => {
      if (Date.now() < warmUpEnd) return;
      if (!measured.at) measured = { at: Date.now(), requests };
      const mib = rssMiB(serverdPid);
      if (mib !== undefined) rss.push(mib);
    }, 1_000);
    try {
      // Each worker keeps one request in flight; the pool gives each its own keep-alive connection.
      await Promise.all(Array.from({ length: CONNECTIONS }, async (_, worker) => {
        // Bounded in count as well as time: far above what this machine can do in 30 s.
        for (let n = 0; n < 1_000_000 && Date.now() < deadline; n++) {
          const path = `/w${worker}/${n}`;
          requests++;
          try {
            const res = await pool.request({ method: "GET", path, headers: { host, "proxy-authorization": `Bearer ${client.accessToken}` } });
            const text = await res.body.text();
            if (res.statusCode !== 200 || text !== `load-origin ${path}`) {
              failed++;
              if (failures.length < 5) failures.push(`${path}: ${res.statusCode} ${text.slice(0, 120)}`);
            }
          } catch (error) {
            failed++;
            if (failures.length < 5) failures.push(`${path}: ${(error as Error).message}`);
          }
        }
      }));
    } finally {
      clearInterval(sampler);
      await pool.close();
    }
    const seconds = (Date.now() - measured.at) / 1000;
    const steady = rss;
    const third = Math.max(1, Math.floor(steady.length / 3));
    const average = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const rssStart = average(steady.slice(0, third));
    const rssEnd = average(steady.slice(-third));
    report({
      fault: "sustained load", requests, failed, req_per_s: Math.round((requests - measured.requests) / seconds),
      rss_start_mib: Math.round(rssStart * 10) / 10, rss_end_mib: Math.round(rssEnd * 10) / 10,
      connections: CONNECTIONS, warm_up_s: WARM_UP_MS / 1000, seconds: Math.round(seconds * 10) / 10, rss_samples_mib: rss.map(Math.round), load_before: load,
    });
    assert.equal(failed, 0, `${failed} of ${requests} requests failed, e.g.:\n${failures.join("\n")}`);
    assert.ok(requests > 1_000, `only ${requests} requests in ${seconds} s`);
    assert.ok(steady.length >= 15, `only ${rss.length} memory samples`);
    assert.ok(rssEnd <= rssStart * 1.25 || rssEnd - rssStart <= 30,
      `petit-serverd grew from ${rssStart.toFixed(1)} MiB to ${rssEnd.toFixed(1)} MiB: ${rss.map(Math.round).join(" ")}`);
  });
});
