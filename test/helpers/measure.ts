/**
 * Measuring a test's cost on this machine from /proc: CPU of the whole
 * machine and per process, resident memory; and printing the result line.
 * @module
 */
import { readFileSync, statSync } from "node:fs";
import { allPids } from "../../lib/proc/process.ts";

/** Machine-wide CPU time from /proc/stat: busy and total jiffies since boot. */
export function cpuTimes(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

/** Busy CPU seconds and machine utilisation (0-1, all cores) between two cpuTimes() readings. */
export function cpuBetween(a: ReturnType<typeof cpuTimes>, b: ReturnType<typeof cpuTimes>): { busy_s: number; util: number } {
  const hz = 100; // USER_HZ on Linux
  return { busy_s: Math.round(((b.busy - a.busy) / hz) * 10) / 10, util: Math.round(((b.busy - a.busy) / Math.max(1, b.total - a.total)) * 100) / 100 };
}

/** CPU ticks used so far by every live process: pid → [command name, ticks]. */
export function processTicks(): Map<number, [string, number]> {
  const ticks = new Map<number, [string, number]>();
  for (const pid of allPids()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // For sshd, children that ended and were reaped (the pre-auth child, which does the key exchange) count too.
      const children = comm === "sshd" ? Number(f[13]) + Number(f[14]) : 0;
      ticks.set(pid, [comm, Number(f[11]) + Number(f[12]) + children]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

/**
 * CPU seconds spent between two processTicks() readings, by `group` of each
 * process (processes that ended in between are not counted).
 */
export function cpuByGroup(
  a: Map<number, [string, number]>, b: Map<number, [string, number]>, group: (pid: number, comm: string) => string,
): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const [pid, [comm, ticks]] of b) {
    const before = a.get(pid)?.[0] === comm ? a.get(pid)![1] : 0;
    const name = group(pid, comm);
    sums[name] = (sums[name] ?? 0) + (ticks - before) / 100;
  }
  for (const name of Object.keys(sums)) sums[name] = Math.round(sums[name] * 10) / 10;
  return sums;
}

/** Resident memory of process `pid` in MiB (VmRSS), or undefined when it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * Counts, in the relay's sshd log from byte `from` on, the connections sshd
 * dropped for MaxStartups and those it ended for LoginGraceTime.
 */
export function sshdLogCounts(logFile: string, from = 0): { maxstartups_drops: number; grace_timeouts: number } {
  let text = "";
  try {
    text = readFileSync(logFile).subarray(from).toString("utf8");
  } catch {
    // no log yet
  }
  return {
    maxstartups_drops: text.match(/drop connection #\d+ .* past MaxStartups/g)?.length ?? 0,
    grace_timeouts: text.match(/Timeout before authentication/g)?.length ?? 0,
  };
}

/** Size of `file` in bytes, or 0 when missing. */
export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The machine's 1-minute load average: other work competing with a test for the CPU. */
export function loadAverage(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

/** Prints one machine-readable result line. */
export function report(result: Record<string, unknown>): void {
  process.stdout.write(`RELIABILITY ${JSON.stringify(result)}\n`);
}
