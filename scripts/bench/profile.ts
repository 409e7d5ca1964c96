/**
 * `npm run bench -- --cpu-prof`: runs petit-serverd under `node --cpu-prof`,
 * drives the small-request load through its proxy, stops it (which writes
 * the profile), and prints where its CPU went, with the per-process CPU of
 * the whole path. The profile is kept for Chrome DevTools.
 * @module
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupAll } from "./cleanup.ts";
import { renderProfile, summarizeProfile } from "./cpu-profile.ts";
import { cpuUse, sampleCpu } from "./cpu.ts";
import { runLoad } from "./load.ts";
import { startPetit } from "./petit.ts";
import { has } from "./tools.ts";

/** Profiles the proxy under `connections` keep-alive connections for `seconds`. */
export async function profileProxy(options: {
  bundle: string; originPort: number; seconds: number; connections: number;
  log: (line: string) => void; out: (line?: string) => void;
}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "petit-bench-prof-"));
  options.log("starting a petit relay whose petit-serverd runs under --cpu-prof…");
  const petit = await startPetit({ bundle: options.bundle, originPort: options.originPort, nodeArgs: ["--cpu-prof", "--cpu-prof-dir", dir] });
  const serverd = petit.pids().serverd[0];
  const tool = (await has("wrk")) ? "wrk" : "undici";
  const spec = (seconds: number) => ({
    url: `http://127.0.0.1:${petit.httpPort}/`, headers: petit.headers, connections: options.connections, seconds, close: false, maxRequests: 5_000_000,
  });
  await runLoad(spec(1), tool);
  const roles = { serverd: () => petit.pids().serverd, ssh: () => petit.pids().ssh, sshd: () => petit.pids().sshd };
  const before = sampleCpu(roles);
  const result = await runLoad(spec(options.seconds), tool);
  const use = cpuUse(before, sampleCpu(roles), result.requests);
  // Stopping petit-serverd (SIGTERM, a clean exit) is what writes its profile.
  await cleanupAll();
  const file = readdirSync(dir).find((name) => name.includes(`.${serverd}.`) && name.endsWith(".cpuprofile"));
  if (!file) throw new Error(`petit-serverd (pid ${serverd}) wrote no profile in "${dir}"`);
  options.out(`${result.rps.toFixed(0)} req/s under the profiler (slower than without), p99 ${result.p99Ms.toFixed(2)} ms`);
  for (const role of Object.keys(roles)) {
    options.out(`  ${role.padEnd(8)} ${use.perRequestUs[role].toFixed(1).padStart(7)} µs/request  ${use.coreShare[role].toFixed(0).padStart(4)}% of a core`);
  }
  options.out(`  machine  ${use.machineBusyPercent.toFixed(0)}% busy (all cores)`);
  options.out();
  options.out(renderProfile(summarizeProfile(join(dir, file), options.bundle)));
  options.out(`\nprofile kept at ${join(dir, file)} (open it in Chrome DevTools → Performance)`);
}
