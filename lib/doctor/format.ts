/**
 * The doctor's report as text: one line per check, the fix on the same line.
 * @module
 */
import type { CheckResult } from "./check.ts";

/**
 * Returns one line per result: status, role, check name, what was found and,
 * for a warn or fail, "fix: …".
 * @example
 * formatResults([{ role: "client", check: "target", status: "fail", message: "…", fix: "…" }])
 * // ["fail  client  target  … — fix: …"]
 */
export function formatResults(results: CheckResult[]): string[] {
  const width = Math.max(0, ...results.map((r) => r.check.length));
  return results.map((r) => {
    const head = `${r.status.padEnd(4)}  ${r.role.padEnd(6)}  ${r.check.padEnd(width)}  ${r.message}`;
    return r.fix ? `${head} — fix: ${r.fix}` : head;
  });
}

/** Returns the closing line: how many checks came out ok, warn and fail. */
export function formatSummary(results: CheckResult[]): string {
  const count = (status: string) => results.filter((r) => r.status === status).length;
  return `${count("ok")} ok, ${count("warn")} warn, ${count("fail")} fail`;
}
