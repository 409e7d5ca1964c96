/**
 * The relay's file checks: modes of PETIT_HOME, secrets and keys, and
 * whether authorized_keys says exactly what the registry says.
 * @module
 */
import { readFileSync, statSync } from "node:fs";
import { parseRange } from "../config/values.ts";
import type { Registry } from "../server/registry/registry.ts";
import { openRegistry } from "../server/store/open.ts";
import { compareAuthorizedKeys } from "./authorized-keys-diff.ts";
import { fail, ok, type Check, type Finding } from "./check.ts";
import { restartFix, type ServerContext } from "./server-context.ts";

/** What a file's mode must not allow, and the chmod that fixes it. */
interface ModeRule {
  path: string;
  /** Mode bits that must be clear. */
  forbidden: number;
  why: string;
  chmod: string;
  /** A missing file is fine (created later) unless this says otherwise. */
  required?: string;
}

/** Returns the mode rules of the relay's files under `home`. */
function modeRules({ home, paths }: ServerContext): ModeRule[] {
  const secret = (path: string, required?: string): ModeRule =>
    ({ path, forbidden: 0o077, why: "a secret must be readable by its owner only", chmod: "600", required });
  return [
    { path: home, forbidden: 0o002, why: "anyone could replace petit's files", chmod: "o-w" },
    { path: paths.dir, forbidden: 0o022, why: "others could replace the relay's files", chmod: "go-w" },
    secret(paths.token, "petit server init --domain DOMAIN"),
    secret(paths.tokens),
    secret(paths.controlSecret),
    { ...secret(paths.hostKey), why: "a private key must be readable by its owner only" },
    { path: paths.registry, forbidden: 0o022, why: "others could add clients", chmod: "go-w" },
    { path: paths.authorizedKeys, forbidden: 0o022, why: "others could add keys", chmod: "go-w" },
  ];
}

/** Secrets and keys are 0600, registry and authorized_keys not writable by others, PETIT_HOME not world-writable. */
export function checkFiles(context: ServerContext): Finding {
  const problems: string[] = [];
  const fixes: string[] = [];
  for (const rule of modeRules(context)) {
    let mode: number;
    try {
      mode = statSync(rule.path).mode & 0o777;
    } catch {
      if (rule.required) {
        problems.push(`"${rule.path}" is missing`);
        fixes.push(rule.required);
      }
      continue;
    }
    if (mode & rule.forbidden) {
      problems.push(`"${rule.path}" has mode ${mode.toString(8).padStart(4, "0")} (${rule.why})`);
      fixes.push(`chmod ${rule.chmod} "${rule.path}"`);
    }
  }
  if (problems.length) return fail(problems.join("; "), fixes.join(" && "));
  return ok(`"${context.home}" is not world-writable; secrets and the host key are readable by their owner only`);
}

/** The relay's registry as it stands, read only: registry.json, or the shared store when server.store names one. */
export async function readRegistry({ config, paths }: ServerContext): Promise<Registry> {
  const opened = await openRegistry(config.store, {
    file: paths.registry, authorizedKeys: paths.authorizedKeys, range: parseRange(config.port_range)!, readOnly: true, node: "petit doctor",
  }, () => undefined);
  await opened.close();
  return opened.registry;
}

/** Every registered client has exactly its own authorized_keys line, and there is nothing else. */
export async function checkRegistry(context: ServerContext): Promise<Finding> {
  const { config, paths } = context;
  let registry: Registry;
  try {
    registry = await readRegistry(context);
  } catch (error) {
    if (config.store) return fail((error as Error).message, 'see the "store" check');
    return fail((error as Error).message, `restore "${paths.registry}" from a backup, then ${restartFix(context)}`);
  }
  const clients = registry.list();
  let text: string;
  try {
    text = readFileSync(paths.authorizedKeys, "utf8");
  } catch {
    if (clients.length === 0) return ok("no clients registered yet");
    return fail(`"${paths.authorizedKeys}" is missing, but ${clients.length} client(s) are registered`, `${restartFix(context)} (it rewrites the file from the registry)`);
  }
  const problems = compareAuthorizedKeys(clients, text);
  if (problems.length) {
    const shown = problems.slice(0, 5).join("; ") + (problems.length > 5 ? `; and ${problems.length - 5} more` : "");
    return fail(
      `"${paths.authorizedKeys}" does not match "${paths.registry}": ${shown}`,
      `${restartFix(context)} (petit-serverd rewrites authorized_keys from registry.json at start; a client that is missing from the registry must petit register again)`,
    );
  }
  return ok(`${clients.length} registered client(s), each with exactly its own authorized_keys line`);
}

/** The file checks, in report order. */
export const serverFileChecks: Check<ServerContext>[] = [
  { name: "files", run: checkFiles },
  { name: "registry", needs: ["store"], run: checkRegistry },
];
