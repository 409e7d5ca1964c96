/**
 * petit's commands as clipanion defines them, for the generated man page and
 * shell completion: every command of lib/commands/registry.ts, registered on
 * a PetitCli as cli.ts registers them (so option values carry their names).
 * @module
 */
import { Builtins, type Definition } from "clipanion";
import { loadCommandsFor } from "../../lib/commands/registry.ts";
import { PetitCli } from "../../lib/commands/shared/petit-cli.ts";

/** Returns the definitions of every petit command and `--version`, sorted by path. */
export async function commandDefinitions(version: string): Promise<Definition[]> {
  const cli = new PetitCli({ binaryLabel: "petit", binaryName: "petit", binaryVersion: version, enableColors: false });
  // No words typed: every command.
  for (const command of await loadCommandsFor([])) cli.register(command);
  cli.register(Builtins.VersionCommand);
  return cli.definitions({ colored: false }).sort((a, b) => a.path.localeCompare(b.path));
}
