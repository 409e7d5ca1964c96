/**
 * Which files petit trusts, for the check in file-trust.ts: the home and the
 * config file before the config is read, then everything the config makes
 * petit run, read or write (programs, keys, secrets, registry, sshd files).
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { clientPaths, serverPaths } from "../paths.ts";
import { findSshd } from "../ssh/find-sshd.ts";
import type { PetitConfig } from "./schema.ts";

/** The files petit trusts before it reads config.toml: the home and the config file itself. */
export function filesBeforeConfig(home: string, configFile: string): string[] {
  return [home, configFile];
}

/** The files `config` makes petit trust, besides the home and the config file. */
export function filesOfConfig(home: string, config: PetitConfig): string[] {
  const files: string[] = [];
  const server = config.server;
  if (server) {
    const paths = serverPaths(home);
    files.push(...Object.values(paths));
    const sshd = program(() => findSshd(server.sshd_path));
    if (sshd) files.push(sshd);
    for (const file of [server.tls_cert, server.tls_key, server.acme?.ca_file]) if (file) files.push(file);
    const hook = server.acme?.dns_hook ? program(() => server.acme!.dns_hook) : undefined;
    if (hook) files.push(hook);
    if (server.access_log) files.push(isAbsolute(server.access_log) ? server.access_log : join(paths.dir, server.access_log));
    if (server.ssh_mode === "system") {
      files.push(server.system_sshd_config, server.system_dropin_dir);
      if (server.system_sshd_pid) files.push(server.system_sshd_pid);
    }
  }
  const client = config.client;
  if (client) {
    files.push(...Object.values(clientPaths(home)));
    const ssh = program(() => client.ssh_path);
    if (ssh) files.push(ssh);
  }
  return files;
}

/** The file a program name runs: a path as it is, a bare name looked up in $PATH; undefined when not found. */
function program(name: () => string): string | undefined {
  let given: string;
  try {
    given = name();
  } catch {
    return undefined; // No sshd at all: starting it fails later with the install command.
  }
  if (given.includes("/")) return resolve(given);
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = resolve(dir, given);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}
