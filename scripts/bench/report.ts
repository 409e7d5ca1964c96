/**
 * The benchmark's summary: medians over rounds, the side-by-side table with
 * ratios to the bare tunnel, the targets petit is held to, and CPU per request.
 * @module
 */
import type { CpuUse } from "./cpu.ts";
import type { LoadResult } from "./load.ts";
import { median } from "./timing.ts";

/** Everything measured for one target, one entry per round. */
export interface TargetRuns {
  key: "direct" | "bare" | "nginx" | "petit" | "nginx-tls" | "petit-tls";
  label: string;
  keepAlive: LoadResult[];
  close: LoadResult[];
  bulkMBps: number[];
  bulkUpMBps: number[];
  cpu: CpuUse[];
  /** Sockets in TIME_WAIT when each keep-alive run started. */
  timeWaitAtStart: number[];
}

/** Medians over the rounds of one target. */
export interface TargetSummary {
  key: TargetRuns["key"];
  label: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  closeRps: number;
  closeP99Ms: number;
  closeErrors: number;
  bulkMBps: number;
  bulkUpMBps: number;
  /** CPU µs per small keep-alive request, by role. */
  cpuUsPerRequest: Record<string, number>;
  machineBusyPercent: number;
}

/** Reduces each target's rounds to medians. */
export function summarize(runs: TargetRuns): TargetSummary {
  const m = (list: LoadResult[], pick: (r: LoadResult) => number) => median(list.map(pick));
  const roles = Object.keys(runs.cpu[0]?.perRequestUs ?? {});
  return {
    key: runs.key, label: runs.label,
    rps: m(runs.keepAlive, (r) => r.rps), p50Ms: m(runs.keepAlive, (r) => r.p50Ms), p99Ms: m(runs.keepAlive, (r) => r.p99Ms),
    errors: runs.keepAlive.reduce((sum, r) => sum + r.errors, 0),
    closeRps: m(runs.close, (r) => r.rps), closeP99Ms: m(runs.close, (r) => r.p99Ms),
    closeErrors: runs.close.reduce((sum, r) => sum + r.errors, 0),
    bulkMBps: median(runs.bulkMBps),
    bulkUpMBps: median(runs.bulkUpMBps),
    cpuUsPerRequest: Object.fromEntries(roles.map((role) => [role, median(runs.cpu.map((c) => c.perRequestUs[role]))])),
    machineBusyPercent: median(runs.cpu.map((c) => c.machineBusyPercent)),
  };
}

const pad = (text: string, width: number) => text.padStart(width);
const num = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "—");
const ratio = (n: number, base: number) => (Number.isFinite(n) && base > 0 ? `×${(n / base).toFixed(2)}` : "—");

/** The side-by-side table; ratios are to the bare tunnel, and petit's to nginx (HTTPS rows: to nginx over HTTPS). */
export function renderTable(rows: TargetSummary[]): string {
  const bare = rows.find((r) => r.key === "bare");
  const peer = (r: TargetSummary) => rows.find((o) => o.key === (r.key === "petit" ? "nginx" : r.key === "petit-tls" ? "nginx-tls" : ""));
  const head = [
    "target".padEnd(16), pad("req/s", 7), pad("×bare", 6), pad("×nginx", 6), pad("p50 ms", 7), pad("p99 ms", 7), pad("err", 3), " │",
    pad("close r/s", 9), pad("×bare", 6), pad("×nginx", 6), pad("p99 ms", 7), pad("err", 3), " │",
    pad("down MB/s", 9), pad("×bare", 6), pad("up MB/s", 8), pad("×bare", 6),
  ].join(" ");
  const lines = [
    `${"".padEnd(16)} ${"small keep-alive".padEnd(48)} │ ${"new connection per request".padEnd(35)} │ bulk`,
    head, "─".repeat(head.length),
  ];
  for (const r of rows) {
    const other = peer(r);
    lines.push([
      r.label.padEnd(16), pad(num(r.rps), 7), pad(ratio(r.rps, bare?.rps ?? NaN), 6), pad(other ? ratio(r.rps, other.rps) : "", 6),
      pad(num(r.p50Ms, 2), 7), pad(num(r.p99Ms, 2), 7), pad(String(r.errors), 3), " │",
      pad(num(r.closeRps), 9), pad(ratio(r.closeRps, bare?.closeRps ?? NaN), 6), pad(other ? ratio(r.closeRps, other.closeRps) : "", 6),
      pad(num(r.closeP99Ms, 2), 7), pad(String(r.closeErrors), 3), " │",
      pad(num(r.bulkMBps), 9), pad(ratio(r.bulkMBps, bare?.bulkMBps ?? NaN), 6), pad(num(r.bulkUpMBps), 8), pad(ratio(r.bulkUpMBps, bare?.bulkUpMBps ?? NaN), 6),
    ].join(" "));
  }
  return lines.join("\n");
}

/** CPU µs per small keep-alive request by role, and how busy the machine was. */
export function renderCpu(rows: TargetSummary[]): string {
  const roles = [...new Set(rows.flatMap((r) => Object.keys(r.cpuUsPerRequest)))];
  const lines = [`${"CPU µs/request".padEnd(16)} ${roles.map((role) => pad(role, 8)).join(" ")} ${pad("sum", 8)} ${pad("machine busy", 13)}`];
  for (const r of rows) {
    const values = roles.map((role) => r.cpuUsPerRequest[role] ?? 0);
    const sum = values.reduce((a, b) => a + b, 0);
    lines.push(`${r.label.padEnd(16)} ${values.map((v) => pad(num(v, 1), 8)).join(" ")} ${pad(num(sum, 1), 8)} ${pad(`${num(r.machineBusyPercent)}%`, 13)}`);
  }
  return lines.join("\n");
}

/** One target petit is held to, and whether this run met it. */
export interface Check {
  what: string;
  measured: string;
  ok: boolean;
}

/** The targets of the speed issue (issue 15), checked against this run. */
export function checkTargets(rows: TargetSummary[], up: { first200Ms: number; statusMs: number }, idle?: { petitKiB: number }): Check[] {
  const get = (key: TargetSummary["key"]) => rows.find((r) => r.key === key);
  const petit = get("petit");
  const bare = get("bare");
  const nginx = get("nginx");
  const petitTls = get("petit-tls");
  const nginxTls = get("nginx-tls");
  const checks: Check[] = [];
  const cpu = (r: TargetSummary, role: string) => r.cpuUsPerRequest[role] ?? NaN;
  if (petit && nginx) {
    checks.push(
      { what: "petit req/s ≥ nginx→tunnel req/s", measured: `${num(petit.rps)} vs ${num(nginx.rps)}`, ok: petit.rps >= nginx.rps },
      { what: "serverd CPU/request ≤ nginx's", measured: `${num(cpu(petit, "serverd"), 1)} vs ${num(cpu(nginx, "nginx"), 1)} µs`, ok: cpu(petit, "serverd") <= cpu(nginx, "nginx") },
      { what: "petit p99 ≤ nginx→tunnel p99", measured: `${num(petit.p99Ms, 2)} vs ${num(nginx.p99Ms, 2)} ms`, ok: petit.p99Ms <= nginx.p99Ms },
      { what: "new connection: petit ≥ nginx", measured: `${num(petit.closeRps)} vs ${num(nginx.closeRps)} req/s`, ok: petit.closeRps >= nginx.closeRps },
    );
  }
  if (petit && bare) {
    checks.push(
      { what: "petit p99 ≤ bare p99 + 2 ms", measured: `${num(petit.p99Ms, 2)} vs ${num(bare.p99Ms + 2, 2)} ms`, ok: petit.p99Ms <= bare.p99Ms + 2 },
      { what: "bulk download ≥ 0.9 × bare tunnel", measured: `${num(petit.bulkMBps)} vs ${num(0.9 * bare.bulkMBps)} MB/s`, ok: petit.bulkMBps >= 0.9 * bare.bulkMBps },
      { what: "bulk upload ≥ 0.9 × bare tunnel", measured: `${num(petit.bulkUpMBps)} vs ${num(0.9 * bare.bulkUpMBps)} MB/s`, ok: petit.bulkUpMBps >= 0.9 * bare.bulkUpMBps },
    );
  }
  if (petitTls && nginxTls) {
    checks.push(
      { what: "HTTPS: petit req/s ≥ nginx", measured: `${num(petitTls.rps)} vs ${num(nginxTls.rps)}`, ok: petitTls.rps >= nginxTls.rps },
      { what: "HTTPS: proxy CPU/request ≤ nginx's", measured: `${num(cpu(petitTls, "serverd"), 1)} vs ${num(cpu(nginxTls, "nginx"), 1)} µs`, ok: cpu(petitTls, "serverd") <= cpu(nginxTls, "nginx") },
      { what: "HTTPS new connection: petit ≥ nginx", measured: `${num(petitTls.closeRps)} vs ${num(nginxTls.closeRps)} req/s`, ok: petitTls.closeRps >= nginxTls.closeRps },
      { what: "HTTPS bulk down: petit ≥ nginx", measured: `${num(petitTls.bulkMBps)} vs ${num(nginxTls.bulkMBps)} MB/s`, ok: petitTls.bulkMBps >= nginxTls.bulkMBps },
    );
  }
  if (idle) checks.push({ what: "RSS per idle connection < 10 KiB", measured: `${num(idle.petitKiB, 1)} KiB`, ok: idle.petitKiB < 10 });
  checks.push(
    { what: "petit up → first 200, median < 1 s", measured: `${num(up.first200Ms)} ms`, ok: up.first200Ms < 1_000 },
    { what: "petit status, median < 150 ms", measured: `${num(up.statusMs)} ms`, ok: up.statusMs < 150 },
  );
  return checks;
}

/** The checks as lines. */
export function renderChecks(checks: Check[]): string {
  return checks.map((c) => `${c.ok ? "  met   " : "  MISSED"}  ${c.what.padEnd(36)} ${c.measured}`).join("\n");
}
