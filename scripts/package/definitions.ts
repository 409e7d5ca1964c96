/**
 * petit's commands as clipanion defines them, for the generated man page and
 * shell completion: every command class found under lib/commands/, registered
 * on a PetitCli as cli.ts registers them (so option values carry their names).
 * @module
 */
import { Builtins, type CommandClass, type Definition } from "clipanion";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { PetitCli } from "../../lib/commands/shared/petit-cli.ts";

/** Returns the definitions of every petit command, sorted by path. */
export async function commandDefinitions(root: string, version: string): Promise<Definition[]> {
  const cli = new PetitCli({ binaryLabel: "petit", binaryName: "petit", binaryVersion: version, enableColors: false });
  for (const file of commandFiles(join(root, "lib", "commands"))) {
    const module = await import(pathToFileURL(file).href) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      if (isCommandClass(value)) cli.register(value);
    }
  }
  cli.register(Builtins.VersionCommand);
  return cli.definitions({ colored: false }).sort((a, b) => a.path.localeCompare(b.path));
}

/** Every .ts file under `dir` (a command class lives in each, the shared ones in shared/ and base files). */
function commandFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => join(dir, name))
    .filter((file) => !relative(dir, file).startsWith("shared"))
    .sort();
}

/** A concrete command class: has its own paths (abstract bases have none). */
function isCommandClass(value: unknown): value is CommandClass {
  return typeof value === "function" && Object.hasOwn(value, "paths") &&
    Array.isArray((value as { paths?: unknown }).paths);
}
