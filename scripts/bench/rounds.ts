/**
 * The side-by-side measurement: every target gets the same small-request,
 * new-connection and bulk (down and up) runs, in rounds whose order rotates, with the CPU
 * of each process on the path sampled around each small-request run.
 * @module
 */
import { Agent, request } from "undici";
import { downloadRate, uploadRate } from "./bulk.ts";
import { cpuUse, sampleCpu, timeWaitSockets, type Roles } from "./cpu.ts";
import { runLoad, type LoadSpec } from "./load.ts";
import type { TargetRuns } from "./report.ts";

/** One place to send the load: the origin, the bare tunnel, nginx or petit's proxy. */
export interface Target {
  key: TargetRuns["key"];
  label: string;
  /** Base URL, without a trailing slash. */
  url: string;
}

/** How to measure. */
export interface RoundSettings {
  rounds: number;
  seconds: number;
  connections: number;
  bulkBytes: number;
  maxRequests: number;
  /** Sent with every request (Host, access token). */
  headers: Record<string, string>;
  tool: "wrk" | "undici";
  bulkTool: "curl" | "undici";
  roles: Roles;
  log: (line: string) => void;
}

/** Checks each target answers 200, warms it up, then runs `rounds` rounds; returns every run by target. */
export async function runRounds(targets: Target[], s: RoundSettings): Promise<TargetRuns[]> {
  const runs = new Map(targets.map((t): [string, TargetRuns] => [
    t.key, { key: t.key, label: t.label, keepAlive: [], close: [], bulkMBps: [], bulkUpMBps: [], cpu: [], timeWaitAtStart: [] },
  ]));
  const spec = (t: Target, close: boolean, seconds = s.seconds): LoadSpec => ({
    url: `${t.url}/`, headers: s.headers, connections: s.connections, seconds, close, maxRequests: s.maxRequests,
  });
  for (const t of targets) {
    await expect200(t.url, s.headers);
    await runLoad(spec(t, false, 1), s.tool); // warm-up: pools, JIT, SSH channels
  }
  for (let round = 0; round < s.rounds; round++) {
    const tag = `round ${round + 1}/${s.rounds}`;
    // Rotate the order each round, so no target always runs first or last. Keep-alive runs come first:
    // each new-connection run leaves thousands of TIME_WAIT sockets for a minute.
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    for (const t of order) {
      const r = runs.get(t.key)!;
      r.timeWaitAtStart.push(timeWaitSockets());
      const before = sampleCpu(s.roles);
      const result = await runLoad(spec(t, false), s.tool);
      r.cpu.push(cpuUse(before, sampleCpu(s.roles), result.requests));
      r.keepAlive.push(result);
      s.log(`${tag} ${t.label}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, `
        + `p99 ${result.p99Ms.toFixed(2)} ms (${r.timeWaitAtStart.at(-1)} sockets in TIME_WAIT)`);
    }
    for (const t of order) {
      const result = await runLoad(spec(t, true), s.tool);
      runs.get(t.key)!.close.push(result);
      s.log(`${tag} ${t.label}, new connections: ${result.rps.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(2)} ms`);
    }
    for (const t of order) {
      const rate = await downloadRate(t.url, s.headers, s.bulkBytes, s.bulkTool);
      const up = await uploadRate(t.url, s.headers, s.bulkBytes, s.bulkTool);
      runs.get(t.key)!.bulkMBps.push(rate);
      runs.get(t.key)!.bulkUpMBps.push(up);
      s.log(`${tag} ${t.label}, bulk: ${rate.toFixed(0)} MB/s down, ${up.toFixed(0)} MB/s up`);
    }
  }
  return [...runs.values()];
}

/** Accepts the bench's self-signed certificate. */
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

/** Fails with the target's answer unless it gives 200 to a request with `headers`. */
async function expect200(url: string, headers: Record<string, string>): Promise<void> {
  const res = await request(`${url}/`, { headers, headersTimeout: 10_000, bodyTimeout: 10_000, dispatcher: insecure });
  const body = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`"${url}/" with Host "${headers.host}" answered ${res.statusCode}: ${body.slice(0, 200)}`);
}
