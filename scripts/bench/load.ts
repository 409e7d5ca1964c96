/**
 * Small-request load: wrk when installed, else a bounded undici loop. Both
 * report req/s and latency percentiles; every run is bounded in time and in
 * request count.
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "undici";
import { runBounded } from "./tools.ts";

/** One load run. */
export interface LoadSpec {
  url: string;
  /** Sent with every request: Host, and petit's access token. */
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  /** Send `Connection: close`: one new connection per request. */
  close: boolean;
  /** Stop early after this many responses. */
  maxRequests: number;
}

/** What a load run measured. */
export interface LoadResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors, timeouts and non-2xx/3xx answers. */
  errors: number;
}

/** Runs `spec` with wrk (`tool` "wrk") or the built-in undici loop. */
export function runLoad(spec: LoadSpec, tool: "wrk" | "undici"): Promise<LoadResult> {
  return tool === "wrk" ? runWrk(spec) : runUndici(spec);
}

// wrk's Lua hooks: stop a thread after its share of maxRequests; print one JSON line at the end.
const WRK_SCRIPT = (maxPerThread: number) => `
local count = 0
function response(status, headers, body)
  count = count + 1
  if count >= ${maxPerThread} then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"us":%d,"p50":%d,"p99":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
`;

async function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), "petit-bench-wrk-"));
  const threads = 1; // one wrk thread drives 32 connections at these rates and leaves the second core to the path under test
  try {
    const script = join(dir, "bench.lua");
    writeFileSync(script, WRK_SCRIPT(Math.ceil(spec.maxRequests / threads)));
    const args = [
      "-t", String(threads), "-c", String(spec.connections), "-d", `${spec.seconds}s`, "--timeout", "5s",
      // "Host" capitalized: wrk adds its own Host header unless it finds one spelled exactly so.
      "-s", script, ...Object.entries(spec.headers).flatMap(([name, value]) => ["-H", `${name === "host" ? "Host" : name}: ${value}`]),
      ...(spec.close ? ["-H", "Connection: close"] : []), spec.url,
    ];
    const out = await runBounded("wrk", args, (spec.seconds + 20) * 1000);
    const line = out.split("\n").find((l) => l.startsWith("BENCH "));
    if (!line) throw new Error(`wrk printed no result line for ${spec.url}:\n${out.slice(-500)}`);
    const r = JSON.parse(line.slice(6)) as { requests: number; us: number; p50: number; p99: number; errors: number };
    return { requests: r.requests, rps: r.requests / (r.us / 1e6), p50Ms: r.p50 / 1000, p99Ms: r.p99 / 1000, errors: r.errors };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runUndici(spec: LoadSpec): Promise<LoadResult> {
  const url = new URL(spec.url);
  const start = performance.now();
  const deadline = start + spec.seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  const worker = async () => {
    let client = new Client(url.origin, { pipelining: 1 });
    while (performance.now() < deadline && latencies.length + errors < spec.maxRequests) {
      const t0 = performance.now();
      try {
        const res = await client.request({
          method: "GET", path: url.pathname + url.search, headersTimeout: 5_000, bodyTimeout: 5_000,
          headers: { ...spec.headers, ...(spec.close ? { connection: "close" } : {}) },
        });
        await res.body.dump();
        if (res.statusCode >= 400) errors++;
        else latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
      if (spec.close) {
        await client.close().catch(() => undefined);
        client = new Client(url.origin, { pipelining: 1 });
      }
    }
    await client.close().catch(() => undefined);
  };
  await Promise.all(Array.from({ length: spec.connections }, worker));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { requests: latencies.length, rps: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99), errors };
}
