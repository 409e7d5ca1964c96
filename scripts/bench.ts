/**
 * `npm run bench`: petit's Host-header proxy measured side by side, in one
 * run and with the same load generator, against the bare tunnel it sits in
 * front of (the relay end 127.0.0.1:P of the very same `ssh -R`), nginx
 * routing by Host to that tunnel port, and the origin direct; then both
 * proxies again over HTTPS (petit's proxy with `tls` in a process of its
 * own, see bench/tls.ts). Also measures RSS per idle keep-alive connection
 * (5,000 of them), and times `petit up` → first proxied 200 and `petit
 * status`. Everything runs on loopback and is stopped at the end, also on
 * Ctrl-C or a failure.
 *
 * Settings (environment): BENCH_SECONDS per load run (8), BENCH_ROUNDS (3;
 * targets interleaved, medians reported), BENCH_CONNECTIONS (32),
 * BENCH_BULK_MIB (256, one download and one upload per target per round),
 * BENCH_IDLE (5000 idle connections), BENCH_UP_CYCLES (5), BENCH_STATUS_RUNS (10). `npm run bench -- --cpu-prof` instead profiles
 * petit-serverd under the small-request load (see scripts/bench/profile.ts).
 *
 * Results: printed, and written to bench-results.json at the repository root (git-ignored).
 *
 * Run with `node --import tsx` (as `npm run bench` does), not the tsx CLI:
 * on Ctrl-C the CLI SIGKILLs its child unless it answers within 30 ms, which
 * on a loaded machine cuts the cleanup short and leaves the relay running.
 * @module
 */
import { execa } from "execa";
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { cleanupAll, cleanupOnSignals, cleanupStarted } from "./bench/cleanup.ts";
import { loadLine, type Roles } from "./bench/cpu.ts";
import { measureIdle, rssKiB, type IdleMemory } from "./bench/idle.ts";
import { startNginx } from "./bench/nginx.ts";
import { startOrigin } from "./bench/origin.ts";
import { DOMAIN, ensureBundle, startPetit } from "./bench/petit.ts";
import { profileProxy } from "./bench/profile.ts";
import { checkTargets, renderChecks, renderCpu, renderTable, summarize } from "./bench/report.ts";
import { runRounds, type Target } from "./bench/rounds.ts";
import { median, statusTimes, upToFirst200 } from "./bench/timing.ts";
import { makeCert, startTlsProxy } from "./bench/tls.ts";
import { ensureProgram, has } from "./bench/tools.ts";

const root = resolve(import.meta.dirname, "..");
const setting = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`Expected ${name} to be a positive number, got "${process.env[name]}"`);
  return value;
};
const settings = {
  seconds: setting("BENCH_SECONDS", 8), rounds: setting("BENCH_ROUNDS", 3), connections: setting("BENCH_CONNECTIONS", 32),
  bulkMiB: setting("BENCH_BULK_MIB", 256), idle: setting("BENCH_IDLE", 5_000), upCycles: setting("BENCH_UP_CYCLES", 5), statusRuns: setting("BENCH_STATUS_RUNS", 10),
  // Far above what 2 cores serve in BENCH_SECONDS; only a runaway loop would reach it.
  maxRequests: 5_000_000,
};
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const out = (line = "") => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  cleanupOnSignals();
  const loadAtStart = loadLine();
  log(`${loadAtStart} (other processes on this machine make the figures noisy)`);
  const tool = (await ensureProgram("wrk", "wrk", log)) ? "wrk" : "undici";
  const haveNginx = await ensureProgram("nginx", "nginx", log);
  const bulkTool = (await has("curl")) ? "curl" : "undici";
  const bundle = await ensureBundle(root, log);
  const origin = await startOrigin();
  if (process.argv.includes("--cpu-prof")) {
    return profileProxy({ bundle, originPort: origin.port, seconds: settings.seconds, connections: settings.connections, log, out });
  }
  log("starting a petit relay and client (bundled CLI)…");
  const petit = await startPetit({ bundle, originPort: origin.port });
  const cert = makeCert(petit.headers.host);
  const nginx = haveNginx ? await startNginx({ host: petit.headers.host, tunnelPort: petit.tunnelPort, tls: cert }) : undefined;
  if (!nginx) log("nginx is not installed: its row is left out");
  const tlsProxy = await startTlsProxy({
    id: Number(petit.headers.host.split(".")[0]), tunnelPort: petit.tunnelPort, token: petit.headers["x-petit-token"], domain: DOMAIN, cert,
  });

  const targets: Target[] = [
    { key: "direct", label: "direct origin", url: `http://127.0.0.1:${origin.port}` },
    { key: "bare", label: "bare tunnel", url: `http://127.0.0.1:${petit.tunnelPort}` },
    ...(nginx ? [{ key: "nginx", label: "nginx → tunnel", url: `http://127.0.0.1:${nginx.port}` } satisfies Target] : []),
    { key: "petit", label: "petit proxy", url: `http://127.0.0.1:${petit.httpPort}` },
    ...(nginx ? [{ key: "nginx-tls", label: "nginx HTTPS", url: `https://127.0.0.1:${nginx.tlsPort}` } satisfies Target] : []),
    { key: "petit-tls", label: "petit HTTPS", url: `https://127.0.0.1:${tlsProxy.port}` },
  ];
  // The HTTPS proxy is petit's proxy too: its CPU is counted with petit-serverd's (each runs while the other idles).
  const roles: Roles = {
    origin: () => [origin.pid], ssh: () => petit.pids().ssh, sshd: () => petit.pids().sshd,
    serverd: () => [...petit.pids().serverd, tlsProxy.pid], nginx: () => nginx?.pids() ?? [],
  };
  const rssAtStart = rssKiB(petit.pids().serverd);
  await loopDelay(petit.controlPort); // starts the window the rounds are measured in
  log(`load: ${tool}, ${settings.connections} connections, ${settings.seconds} s a run, ${settings.rounds} rounds; bulk: ${bulkTool}, ${settings.bulkMiB} MiB`);
  const runs = await runRounds(targets, {
    ...settings, bulkBytes: settings.bulkMiB * 1024 * 1024, headers: petit.headers, tool, bulkTool, roles, log,
  });

  const rssAfterLoad = rssKiB(petit.pids().serverd);
  const loop = await loopDelay(petit.controlPort);
  log(`opening ${settings.idle} idle keep-alive connections to petit${nginx ? " and to nginx" : ""}…`);
  const idle: Record<string, IdleMemory> = {
    petit: await measureIdle({ port: petit.httpPort, tls: false, headers: petit.headers, count: settings.idle, pids: () => petit.pids().serverd }),
    ...(nginx ? { nginx: await measureIdle({ port: nginx.port, tls: false, headers: petit.headers, count: settings.idle, pids: nginx.pids }) } : {}),
  };

  log(`timing ${settings.upCycles} down/up cycles and ${settings.statusRuns} status runs…`);
  const cycles = await upToFirst200(petit, settings.upCycles);
  const status = await statusTimes(bundle, petit.clientHome, settings.statusRuns);
  const up = { first200Ms: median(cycles.map((c) => c.first200Ms)), upExitMs: median(cycles.map((c) => c.upExitMs)), statusMs: median(status) };
  const summaries = runs.map(summarize);
  const checks = checkTargets(summaries, up, { petitKiB: idle.petit.perConnectionKiB });
  const loadAtEnd = loadLine();

  out();
  out(`petit bench — ${cpus()[0]?.model ?? "unknown CPU"}, node ${process.version}, ${await sshVersion()}`);
  out(`at start: ${loadAtStart}; at end: ${loadAtEnd}`);
  out(`load: ${tool} ${settings.connections} connections × ${settings.seconds} s, medians of ${settings.rounds} interleaved rounds; bulk: ${bulkTool} ${settings.bulkMiB} MiB`);
  out();
  out(renderTable(summaries));
  out();
  out(`petit up → first proxied 200: median ${up.first200Ms.toFixed(0)} ms (up exits after ${up.upExitMs.toFixed(0)} ms; ${cycles.length} cycles)`);
  out(`petit status, start to exit:  median ${up.statusMs.toFixed(0)} ms (${status.length} runs of the bundled file)`);
  out();
  out(renderCpu(summaries));
  const timeWait = median(runs.flatMap((r) => r.timeWaitAtStart));
  out(`(sockets in TIME_WAIT when a keep-alive run started: median ${timeWait}; each new-connection run leaves thousands for 60 s)`);
  out();
  for (const [name, m] of Object.entries(idle)) {
    out(`${name.padEnd(6)} ${m.connections} idle keep-alive connections: RSS ${(m.rssBeforeKiB / 1024).toFixed(1)} → ${(m.rssAfterKiB / 1024).toFixed(1)} MiB, ${m.perConnectionKiB.toFixed(1)} KiB per connection`);
  }
  out(`petit-serverd RSS: ${(rssAtStart / 1024).toFixed(1)} MiB after warm-up, ${(rssAfterLoad / 1024).toFixed(1)} MiB after every round`);
  if (loop) out(`petit-serverd's event loop over the rounds: p99 ${(loop.p99 * 1000).toFixed(1)} ms late, longest stall ${(loop.max * 1000).toFixed(1)} ms`);
  out();
  out("targets:");
  out(renderChecks(checks));
  const file = join(root, "bench-results.json");
  writeFileSync(file, `${JSON.stringify({
    date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, node: process.version,
    loadAtStart, loadAtEnd, settings, tool, bulkTool, summaries, checks, up, cycles, statusMs: status, runs, idle, rssAtStart, rssAfterLoad, loop,
  }, null, 2)}\n`);
  out(`\nresults written to ${file}`);
}

async function sshVersion(): Promise<string> {
  const result = await execa("ssh", ["-V"], { reject: false, stdin: "ignore" });
  return String(result.stderr).trim().split(",")[0];
}

main().then(
  () => cleanupAll().then(() => process.exit(0)),
  (error) => {
    if (!cleanupStarted()) process.stderr.write(`bench: ${(error as Error).stack ?? error}\n`);
    void cleanupAll().finally(() => process.exit(1));
  },
);

/** petit-serverd's event-loop delay since the last call (its /metrics window), in seconds; undefined when it cannot be read. */
async function loopDelay(controlPort: number): Promise<{ p99: number; max: number } | undefined> {
  const text = await fetch(`http://127.0.0.1:${controlPort}/metrics`).then((r) => r.text()).catch(() => "");
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
  const loop = { p99: value("petit_event_loop_delay_p99_seconds"), max: value("petit_event_loop_delay_max_seconds") };
  return Number.isFinite(loop.p99) && Number.isFinite(loop.max) ? loop : undefined;
}
