/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and sums self time by source
 * module and by function. Code inside the esbuild bundle is traced back to
 * its module through the `// path/to/module.js` comments esbuild writes
 * before each module, so undici, node:http and petit's own code show apart.
 * @module
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time in ms, by module and by function, over `totalMs` of samples. */
export interface ProfileSummary {
  totalMs: number;
  byModule: [string, number][];
  byFunction: [string, number][];
}

/** Summarizes the profile at `file`, mapping lines of `bundle` to the modules bundled into it. */
export function summarizeProfile(file: string, bundle: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const moduleAt = bundleModules(bundle);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i + 1] is the time from sample i to the next one: the time spent where sample i was taken.
  for (let i = 0; i < profile.samples.length - 1; i++) {
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + profile.timeDeltas[i + 1]);
  }
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const module = url.endsWith(".mjs") && url.includes("petit") ? moduleAt(lineNumber) : url || "(native or VM)";
    const name = functionName.startsWith("(") ? functionName : `${functionName || "(anonymous)"} ${module}:${lineNumber + 1}`;
    const group = functionName.startsWith("(") ? functionName : module;
    byModule.set(group, (byModule.get(group) ?? 0) + us);
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    totalUs += us;
  }
  const top = (map: Map<string, number>) => [...map].map(([k, v]): [string, number] => [k, v / 1000]).sort((a, b) => b[1] - a[1]);
  return { totalMs: totalUs / 1000, byModule: top(byModule), byFunction: top(byFunction) };
}

/** Returns a function from a 0-based line of the bundle to the module that line came from. */
function bundleModules(bundle: string): (line: number) => string {
  const starts: { line: number; module: string }[] = [];
  readFileSync(bundle, "utf8").split("\n").forEach((text, line) => {
    const match = /^\/\/ (\S+\.(?:[cm]?js|ts|json))$/.exec(text);
    if (match) starts.push({ line, module: match[1].replace(/^node_modules\/([^/]+)\/.*$/, "npm:$1") });
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = "petit.mjs";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid].line <= line) {
        found = starts[mid].module;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  };
}

/** The summary as lines: the `top` modules and functions by self time. */
export function renderProfile(summary: ProfileSummary, top = 15): string {
  const pct = (ms: number) => `${((100 * ms) / summary.totalMs).toFixed(1).padStart(5)}%`;
  const rows = (list: [string, number][]) => list.slice(0, top).map(([name, ms]) => `  ${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${name}`);
  return [
    `petit-serverd CPU profile: ${summary.totalMs.toFixed(0)} ms sampled`,
    "self time by module:", ...rows(summary.byModule),
    "self time by function:", ...rows(summary.byFunction),
  ].join("\n");
}
