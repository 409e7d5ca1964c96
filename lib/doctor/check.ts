/**
 * What every doctor check shares: the shape of a finding, the shape of a
 * reported result, and the runner that gives each check a time limit and
 * skips the ones whose prerequisite failed.
 * @module
 */

/** How a check came out. Only "fail" makes `petit doctor` exit non-zero. */
export type Status = "ok" | "warn" | "fail";

/** Which side of petit a check is about. */
export type Role = "client" | "server";

/** What one check found; a warn or fail always carries the fix. */
export type Finding =
  | { status: "ok"; message: string }
  | { status: "warn" | "fail"; message: string; fix: string };

/** One line of the doctor's report (also its `--json` shape). */
export interface CheckResult {
  role: Role;
  check: string;
  status: Status;
  message: string;
  /** The exact command to run or config key to change; null when ok. */
  fix: string | null;
}

/** One check: a short name, what it needs to have passed first, and how to run it. */
export interface Check<Context> {
  name: string;
  /** Names of earlier checks that must not have failed; otherwise this one is not run. */
  needs?: string[];
  /** Upper bound for the whole check; the child processes it runs have their own, shorter limits. */
  timeoutMs?: number;
  run(context: Context): Promise<Finding> | Finding;
}

/** Default time limit of one check. */
export const CHECK_TIMEOUT_MS = 10_000;

/** Returns an ok finding. */
export function ok(message: string): Finding {
  return { status: "ok", message };
}

/** Returns a warn finding with its fix. */
export function warn(message: string, fix: string): Finding {
  return { status: "warn", message, fix };
}

/** Returns a fail finding with its fix. */
export function fail(message: string, fix: string): Finding {
  return { status: "fail", message, fix };
}

/** Turns a finding into a report line for `role` and check `name`. */
export function toResult(role: Role, name: string, finding: Finding): CheckResult {
  return { role, check: name, status: finding.status, message: finding.message, fix: finding.status === "ok" ? null : finding.fix };
}

/**
 * Runs `checks` one after the other (later ones may rely on what earlier
 * ones proved). A check that throws or runs out of time fails with the
 * reason; a check whose prerequisite failed is reported as a warning that
 * points at that prerequisite, so every check always has its line.
 */
export async function runChecks<Context>(role: Role, checks: Check<Context>[], context: Context): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const blocker = check.needs?.find((name) => results.some((r) => r.check === name && r.status === "fail"));
    if (blocker) {
      results.push(toResult(role, check.name, warn(`not checked: "${blocker}" failed`, `fix "${blocker}" first, then run petit doctor again`)));
      continue;
    }
    results.push(toResult(role, check.name, await runOne(check, context)));
  }
  return results;
}

/** Runs one check within its time limit; an exception or a timeout is a fail. */
async function runOne<Context>(check: Check<Context>, context: Context): Promise<Finding> {
  const limit = check.timeoutMs ?? CHECK_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Finding>((resolve) => {
    timer = setTimeout(() => resolve(fail(
      `the check did not finish within ${limit / 1000} s`,
      "run petit doctor again; if it keeps timing out, the machine or the network is overloaded",
    )), limit);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => check.run(context)), timeout]);
  } catch (error) {
    return fail(
      `the check itself failed: ${(error as Error).message}`,
      "this is a bug in petit doctor: please report it with this line",
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Tells whether `results` hold no fail: the doctor's exit code is then 0. */
export function allPassed(results: CheckResult[]): boolean {
  return results.every((r) => r.status !== "fail");
}
