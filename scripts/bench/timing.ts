/**
 * Start-up figures: from `petit up` to the first 200 through the relay's
 * proxy, and how long `petit status` takes from start to exit.
 * @module
 */
import { execa } from "execa";
import { request } from "undici";
import { sleep } from "./cleanup.ts";
import type { BenchPetit } from "./petit.ts";

/** One down/up cycle. */
export interface UpCycle {
  /** `petit up` start → its exit. */
  upExitMs: number;
  /** `petit up` start → first 200 through the proxy. */
  first200Ms: number;
}

/**
 * Runs `cycles` times: `petit down`, then `petit up` while polling the proxy
 * every 10 ms (at most 15 s) until it answers 200.
 */
export async function upToFirst200(petit: BenchPetit, cycles: number): Promise<UpCycle[]> {
  const results: UpCycle[] = [];
  for (let i = 0; i < cycles; i++) {
    if ((await petit.client(["down"])) !== 0) throw new Error("petit down failed");
    const start = performance.now();
    let upExitMs = NaN;
    const up = petit.client(["up"]).then((code) => {
      upExitMs = performance.now() - start;
      if (code !== 0) throw new Error(`petit up exited ${code}`);
    });
    let first200Ms = NaN;
    while (Number.isNaN(first200Ms) && performance.now() - start < 15_000) {
      if ((await proxyStatus(petit)) === 200) first200Ms = performance.now() - start;
      else await sleep(10);
    }
    await up;
    if (Number.isNaN(first200Ms)) throw new Error(`No 200 through the proxy within 15 s of "petit up" (cycle ${i + 1})`);
    results.push({ upExitMs, first200Ms });
  }
  return results;
}

async function proxyStatus(petit: BenchPetit): Promise<number> {
  try {
    const res = await request(`http://127.0.0.1:${petit.httpPort}/`, {
      headers: petit.headers, headersTimeout: 2_000, bodyTimeout: 2_000, reset: true,
    });
    await res.body.dump();
    return res.statusCode;
  } catch {
    return 0;
  }
}

/** Times `node dist/petit.mjs status` from spawn to exit, `runs` times; it must exit 0 (connected). */
export async function statusTimes(bundle: string, clientHome: string, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const result = await execa(process.execPath, [bundle, "status"], {
      env: { PETIT_HOME: clientHome, NO_COLOR: "1" }, reject: false, stdin: "ignore", timeout: 10_000,
    });
    times.push(performance.now() - start);
    if (result.exitCode !== 0) throw new Error(`petit status exited ${result.exitCode}: ${result.stdout}`);
  }
  return times;
}

/** The median of `values` (NaN when empty). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
