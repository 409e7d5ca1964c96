/**
 * Reading and writing config.toml. Errors name the file, the key and what is
 * expected, so a person can fix the file by reading the message alone.
 * @module
 */
import { parse, stringify } from "smol-toml";
import { join } from "node:path";
import { readFileIfExists, writeFileAtomic } from "../fs-atomic.ts";
import { acmeFields, clientFields, serverFields, type AcmeConfig, type ClientConfig, type PetitConfig, type ServerConfig } from "./schema.ts";
import { checkValue } from "./values.ts";

/** A config file that cannot be used; the message says where and why. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Returns the config path: `override` if given, else `<home>/config.toml`. */
export function configPath(home: string, override?: string): string {
  return override ?? join(home, "config.toml");
}

/** Reads and validates the config at `path`; a missing file is an empty config. */
export function readConfig(path: string): PetitConfig {
  const text = readFileIfExists(path);
  if (text === undefined) return {};
  let raw: Record<string, unknown>;
  try {
    raw = parse(text) as Record<string, unknown>;
  } catch (error) {
    // smol-toml says "Invalid TOML document: <what>" and where (line); the line's text names the key.
    const detail = (error as Error).message.split("\n")[0].replace(/^Invalid TOML document: /, "");
    const line = (error as { line?: unknown }).line;
    const where = typeof line === "number"
      ? `line ${line} (${JSON.stringify((text.split(/\r?\n/)[line - 1] ?? "").trim().slice(0, 80))}): `
      : "";
    throw new ConfigError(`Cannot parse config "${path}": ${where}${detail}`, { cause: error });
  }
  const config: PetitConfig = {};
  for (const [section, value] of Object.entries(raw)) {
    if (section === "server") config.server = readServer(path, value);
    else if (section === "client") config.client = readSection(path, section, value, clientFields) as unknown as ClientConfig;
    else throw new ConfigError(`Config "${path}": unknown section "${section}" (expected [server] or [client])`);
  }
  return config;
}

/** `[server]`, with its one sub-table `[server.acme]` checked by its own fields. */
function readServer(path: string, value: unknown): ServerConfig {
  const isTable = typeof value === "object" && value !== null && !Array.isArray(value);
  const { acme, ...flat } = (isTable ? value : {}) as Record<string, unknown>;
  const server = readSection(path, "server", isTable ? flat : value, serverFields) as unknown as ServerConfig;
  if (acme !== undefined) {
    server.acme = readSection(path, "server.acme", acme, acmeFields) as unknown as AcmeConfig;
    if (server.tls_cert) {
      throw new ConfigError(`Config "${path}": [server.acme] and "server.tls_cert" exclude each other (remove one: ACME obtains the certificate itself)`);
    }
  }
  return server;
}

function readSection(
  path: string, section: string, value: unknown, fields: Record<string, { default?: unknown }>,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`Config "${path}": "${section}" must be a table ([${section}])`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const field = fields[key] as Parameters<typeof checkValue>[0] | undefined;
    if (!field) {
      const known = Object.keys(fields).join(", ");
      throw new ConfigError(`Config "${path}": unknown key "${section}.${key}" (known keys: ${known})`);
    }
    const expected = checkValue(field, item);
    if (expected) {
      throw new ConfigError(
        `Config "${path}": "${section}.${key}" is ${JSON.stringify(item)}, expected ${expected}`,
      );
    }
    out[key] = item;
  }
  for (const [key, field] of Object.entries(fields)) {
    if (key in out) continue;
    if (field.default === undefined) {
      throw new ConfigError(`Config "${path}": "${section}.${key}" is missing`);
    }
    out[key] = field.default;
  }
  return out;
}

/** Writes one role's section into the config at `path`, keeping the other. */
export function writeSection(path: string, section: "server" | "client", values: ServerConfig | ClientConfig): void {
  const text = readFileIfExists(path);
  const raw = text === undefined ? {} : (parse(text) as Record<string, unknown>);
  // Keys in schema order, so the file reads the same way every time.
  const fields = section === "server" ? serverFields : clientFields;
  raw[section] = Object.fromEntries(Object.keys(fields).map((key) => [key, (values as unknown as Record<string, unknown>)[key]]));
  const acme = section === "server" ? (values as ServerConfig).acme : undefined;
  if (acme) (raw[section] as Record<string, unknown>).acme = Object.fromEntries(Object.keys(acmeFields).map((key) => [key, acme[key as keyof AcmeConfig]]));
  writeFileAtomic(path, stringify(raw) + "\n", 0o600);
}
