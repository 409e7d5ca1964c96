/**
 * `npm run bench:startup` (also run by `npm run bench`): how long petit takes
 * to start and exit, side by side with node doing nothing. Each program is
 * timed from spawn to exit, the programs interleaved so a busy moment of the
 * machine hits all alike; medians are reported.
 *
 * Rows: `node -e 0` on this machine's node and on the pinned Node 22 the
 * executable is made of; `petit --version` and `petit status` (on an empty
 * PETIT_HOME: the command's whole start-up, no daemon to wait for) from the
 * bundle on this node and from the single executable. The target:
 * the executable's medians under 150 ms.
 *
 * Wall time on a busy machine mostly measures the wait for a core, so each
 * row's CPU time (user + system, the mean of the same number of runs in a
 * row, from bash's `times`) is shown beside it: that hardly depends on load.
 *
 * Settings (environment): BENCH_STARTUP_RUNS per row (21).
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
const TARGET_MS = 150;

interface Row {
  label: string;
  argv: string[];
  env?: Record<string, string>;
  times: number[];
  cpu?: number;
}

/** The median of `values` (NaN when empty). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function mtime(path: string): number {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

/** Builds `file` with `node script args` when it is missing or older than cli.ts, lib/ or package.json. */
function ensureBuilt(file: string, script: string, args: string[], log: (line: string) => void): void {
  const sources = [join(root, "cli.ts"), join(root, "package.json"), ...readdirSync(join(root, "lib"), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts")).map((name) => join(root, "lib", name))];
  const built = mtime(file);
  if (built > 0 && sources.every((source) => mtime(source) <= built)) return;
  log(`building ${file.slice(root.length + 1)} (missing or older than the sources)…`);
  const result = spawnSync(process.execPath, [join(root, script), ...args], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  if (result.status !== 0) throw new Error(`Cannot build "${file}": node ${script} exited ${result.status}`);
}

/** Times one spawn-to-exit of `row`, in ms; the exit code must be 0, or 3 for an unconfigured `status`. */
function timeOnce(row: Row): number {
  const start = performance.now();
  const result = spawnSync(row.argv[0], row.argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...row.env } });
  const ms = performance.now() - start;
  if (result.status !== 0 && result.status !== 3) {
    throw new Error(`${row.label} exited ${result.status}: ${String(result.stderr).trim()}`);
  }
  return ms;
}

/** Returns the mean CPU time (user + system, ms) of `runs` runs of `row`, from bash's `times`; NaN without bash. */
function cpuPerRun(row: Row, runs: number): number {
  const quoted = row.argv.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
  const script = `for ((i = 0; i < ${runs}; i++)); do ${quoted} >/dev/null 2>&1; done; times`;
  const result = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, ...row.env } });
  // times: the shell's own user and system time, then its children's: "0m1.234s 0m0.567s".
  const children = result.status === 0 ? result.stdout.trim().split("\n").at(-1) ?? "" : "";
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return seconds.length === 2 ? ((seconds[0] + seconds[1]) * 1000) / runs : NaN;
}

/** Runs the start-up benchmark; returns the medians by row label. */
export function benchStartup(options: { runs: number; log: (line: string) => void; out: (line?: string) => void }): Record<string, number> {
  const { runs, log, out } = options;
  const executable = join(root, `dist/petit-linux-${process.arch}`);
  const bundle = join(root, "dist/petit.mjs");
  ensureBuilt(bundle, "scripts/build.mjs", [], log);
  ensureBuilt(executable, "scripts/package/sea.mjs", [`linux-${process.arch}`], log);
  const node22 = join(root, `scripts/package/runtimes/node_modules/node-linux-${process.arch}/bin/node`);
  const home = mkdtempSync(join(tmpdir(), "petit-startup-"));
  const env = { PETIT_HOME: home, NO_COLOR: "1" };
  const rows: Row[] = [
    { label: `node -e 0 (node ${process.version})`, argv: [process.execPath, "-e", "0"], times: [] },
    ...(existsSync(node22) ? [{ label: "node -e 0 (the executable's node 22)", argv: [node22, "-e", "0"], times: [] }] : []),
    { label: "bundle: petit --version", argv: [process.execPath, bundle, "--version"], env, times: [] },
    { label: "bundle: petit status", argv: [process.execPath, bundle, "status"], env, times: [] },
    { label: "executable: petit --version", argv: [executable, "--version"], env, times: [] },
    { label: "executable: petit status", argv: [executable, "status"], env, times: [] },
  ];
  try {
    log(`timing start-up: ${rows.length} programs × ${runs} runs, interleaved…`);
    for (const row of rows) timeOnce(row); // warm the page cache: the first run reads 120 MB from disk
    for (let i = 0; i < runs; i++) for (const row of rows) row.times.push(timeOnce(row));
    for (const row of rows) row.cpu = cpuPerRun(row, runs);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const width = Math.max(...rows.map((row) => row.label.length));
  out(`start-up, spawn to exit (medians of ${runs} interleaved runs; min–max; CPU user+system per run):`);
  const medians: Record<string, number> = {};
  for (const row of rows) {
    medians[row.label] = median(row.times);
    const target = row.label.startsWith("executable") ? (medians[row.label] < TARGET_MS ? `  < ${TARGET_MS} ms ✓` : `  ≥ ${TARGET_MS} ms ✗`) : "";
    const range = `(${Math.min(...row.times).toFixed(0)}–${Math.max(...row.times).toFixed(0)})`.padEnd(11);
    out(`  ${row.label.padEnd(width)}  ${medians[row.label].toFixed(0).padStart(4)} ms  ${range}  CPU ${(row.cpu ?? NaN).toFixed(0).padStart(3)} ms${target}`);
  }
  return medians;
}

if (import.meta.filename === process.argv[1]) {
  const runs = Number(process.env.BENCH_STARTUP_RUNS ?? 21);
  if (!Number.isInteger(runs) || runs <= 0) throw new Error(`Expected BENCH_STARTUP_RUNS to be a positive integer, got "${process.env.BENCH_STARTUP_RUNS}"`);
  benchStartup({ runs, log: (line) => process.stderr.write(`bench: ${line}\n`), out: (line = "") => process.stdout.write(`${line}\n`) });
}
