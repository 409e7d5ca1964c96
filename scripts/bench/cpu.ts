/**
 * CPU accounting from /proc (Linux): each process's utime + stime, summed by
 * role (origin, ssh, sshd, proxy…), and how busy the whole machine was, so a
 * load run can say how many CPU microseconds each role spent per request.
 * @module
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { allPids, parentPid } from "../../lib/proc/process.ts";

/** Roles and how to find their PIDs at sampling time. */
export type Roles = Record<string, () => number[]>;

/** A sample: CPU ticks by role and the machine's busy / total ticks (all cores). */
export interface CpuSample {
  at: number;
  roles: Record<string, number>;
  machine: { busy: number; total: number };
}

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc's CPU times (CLK_TCK, usually 100). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Returns utime + stime of `pid` in ticks, or 0 when it is gone. */
export function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): state is [0]; utime, stime are [11], [12].
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Returns every descendant PID of `pid` (children, their children, …). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of allPids()) {
    const parent = parentPid(p);
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), p]);
  }
  const found: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift()!;
    found.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return found;
}

/** Takes a sample of `roles` and of the machine. */
export function sampleCpu(roles: Roles): CpuSample {
  const sample: CpuSample = { at: performance.now(), roles: {}, machine: machineTicks() };
  for (const [role, pids] of Object.entries(roles)) {
    sample.roles[role] = [...new Set(pids())].reduce((sum, pid) => sum + processTicks(pid), 0);
  }
  return sample;
}

/** Per-role CPU between two samples: µs per request, % of one core; and the machine's busy %. */
export interface CpuUse {
  perRequestUs: Record<string, number>;
  coreShare: Record<string, number>;
  machineBusyPercent: number;
}

/** Compares two samples taken around a run that served `requests` requests. */
export function cpuUse(before: CpuSample, after: CpuSample, requests: number): CpuUse {
  const tickUs = 1e6 / clockTicks();
  const wallUs = (after.at - before.at) * 1000;
  const use: CpuUse = { perRequestUs: {}, coreShare: {}, machineBusyPercent: 0 };
  for (const role of Object.keys(after.roles)) {
    const us = (after.roles[role] - (before.roles[role] ?? 0)) * tickUs;
    use.perRequestUs[role] = requests > 0 ? us / requests : 0;
    use.coreShare[role] = wallUs > 0 ? (100 * us) / wallUs : 0;
  }
  const total = after.machine.total - before.machine.total;
  use.machineBusyPercent = total > 0 ? (100 * (after.machine.busy - before.machine.busy)) / total : 0;
  return use;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** The 1, 5 and 15 minute load averages and the core count, as one line. */
export function loadLine(): string {
  const [one, five, fifteen] = loadavg().map((n) => n.toFixed(2));
  return `load average ${one} ${five} ${fifteen} on ${readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length ?? "?"} cores`;
}

/**
 * Sockets in TIME_WAIT now (from /proc/net/sockstat). Each new-connection run
 * leaves thousands for a minute, and they lengthen /proc/net/tcp for anything
 * that reads it.
 */
export function timeWaitSockets(): number {
  try {
    return Number(/^TCP:.*\btw (\d+)/m.exec(readFileSync("/proc/net/sockstat", "utf8"))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}
