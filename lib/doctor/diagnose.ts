/**
 * The doctor's whole run: the config check, then the checks of each role
 * the config has ([server] and/or [client]).
 * @module
 */
import type { TrustProblem } from "../config/file-trust.ts";
import type { PetitConfig } from "../config/schema.ts";
import { clientPaths, serverPaths } from "../paths.ts";
import { fail, ok, runChecks, toResult, type CheckResult, type Role } from "./check.ts";
import { clientChecks } from "./client-checks.ts";
import { serverChecks } from "./server-checks.ts";

/** What the command read: the config, or why it could not be read. */
export interface DoctorInput {
  home: string;
  configFile: string;
  /** The config as read; absent when reading failed. */
  config?: PetitConfig;
  /** The ConfigError message, when the config could not be read. */
  configError?: string;
  /** The file's text, to tell which roles a broken config was meant for. */
  configText?: string;
  /** Files petit trusts that another account could change (see config/file-trust.ts). */
  untrusted?: TrustProblem[];
}

/** Runs every check that applies to this PETIT_HOME and returns one result per check. */
export async function diagnose(input: DoctorInput): Promise<CheckResult[]> {
  const { home, configFile, config } = input;
  if (input.untrusted?.length) {
    // Every other command refuses to run here; the checks would run the programs these files name.
    const roles = config ? (["server", "client"] as const).filter((role) => config[role]) : sectionsIn(input.configText ?? "");
    const message = input.untrusted.map((p) => `"${p.path}" is ${p.what}`).join("; ") + ": petit refuses to run (other checks skipped)";
    const fix = input.untrusted.map((p) => p.fix).join(" && ");
    return (roles.length ? roles : ["client" as const]).map((role) => toResult(role, "trust", fail(message, fix)));
  }
  if (input.configError !== undefined || !config) {
    const message = input.configError ?? `cannot read "${configFile}"`;
    return sectionsIn(input.configText ?? "").map((role) => toResult(role, "config", fail(message, configErrorFix(message, configFile))));
  }
  if (!config.server && !config.client) {
    return [toResult("client", "config", fail(
      input.configText === undefined ? `"${configFile}" does not exist: nothing to check` : `"${configFile}" has no [server] or [client] section: nothing to check`,
      "on a relay: petit server init --domain DOMAIN; on a client: petit register URL --token TOKEN",
    ))];
  }
  const results: CheckResult[] = [];
  if (config.server) {
    results.push(toResult("server", "config", ok(`[server] in "${configFile}" is valid`)));
    results.push(...await runChecks("server", serverChecks, { config: config.server, paths: serverPaths(home), home, configFile }));
  }
  if (config.client) {
    results.push(toResult("client", "config", ok(`[client] in "${configFile}" is valid`)));
    results.push(...await runChecks("client", clientChecks, { config: config.client, paths: clientPaths(home), configFile }));
  }
  return results;
}

/** The roles whose sections appear in a config's text; "client" when none can be seen. */
export function sectionsIn(text: string): Role[] {
  const roles = (["server", "client"] as const).filter((role) => new RegExp(`^\\s*\\[${role}\\]`, "m").test(text));
  return roles.length ? roles : ["client"];
}

/**
 * Turns a ConfigError message into the edit that fixes it.
 * @example
 * configErrorFix('Config "c.toml": unknown key "client.colour" (known keys: …)', "c.toml")
 * // 'remove "client.colour" from "c.toml"'
 */
export function configErrorFix(message: string, file: string): string {
  const unknownKey = /unknown key "([^"]+)"/.exec(message);
  if (unknownKey) return `remove "${unknownKey[1]}" from "${file}"`;
  const badValue = /"([^"]+)" is .*, expected (.+)$/.exec(message);
  if (badValue) return `set ${badValue[1]} in "${file}" to ${badValue[2]}`;
  const missing = /"([^"]+)" is missing/.exec(message);
  if (missing) {
    return `add ${missing[1]} to "${file}" (petit register and petit server init write their whole section)`;
  }
  const section = /unknown section "([^"]+)"/.exec(message);
  if (section) return `rename or remove [${section[1]}] in "${file}" (petit knows [server] and [client])`;
  return `correct "${file}" where the message says, or restore it from a backup`;
}
