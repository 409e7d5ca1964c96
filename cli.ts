#!/usr/bin/env node
/**
 * petit: a small self-hosted reverse-tunnel relay on stock OpenSSH.
 * The entry point: every command lives in lib/commands/, one per file, listed in lib/commands/registry.ts.
 * @module
 */
import { Builtins, Cli, type Command } from "clipanion";
// The one copy of the version: esbuild bundles it into dist/petit.mjs; tsx and Deno read it.
import packageJson from "./package.json" with { type: "json" };
import { PetitCli } from "./lib/commands/shared/petit-cli.ts";
import { loadCommandsFor } from "./lib/commands/registry.ts";

/** The version printed by `petit --version` and `petit version`: package.json's. */
export const VERSION: string = packageJson.version;

const cli = new PetitCli({
  binaryLabel: "petit", binaryName: "petit", binaryVersion: VERSION,
  enableColors: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
});

// A reader that closes early (`petit server clients | head -1`) ends petit as it ends any Unix tool: at once, quietly,
// with the status SIGPIPE's default action gives a shell (128 + 13), so `set -o pipefail` still sees the output was cut.
// Node ignores SIGPIPE, so without this each write fails with EPIPE and the unhandled error prints a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(141);
    throw error; // anything else is as unexpected as it was without this listener
  });
}

/** Parses argv and runs the command; the exit code is set, not forced, so pending output drains. */
async function main(argv: string[]): Promise<void> {
  // Only the commands argv can name are loaded: each brings its own modules, and loading all of them is slow.
  const commands = await loadCommandsFor(argv);
  // Clipanion's -h and -v go where they always were, before `petit version`: "did you mean" lists in registration order.
  const version = commands.findIndex((command) => command.paths?.[0]?.[0] === "version");
  commands.splice(version < 0 ? commands.length : version, 0, Builtins.HelpCommand, Builtins.VersionCommand);
  for (const command of commands) cli.register(command);
  const context = Cli.defaultContext;
  let command: Command;
  try {
    command = cli.process(argv, context);
  } catch (error) {
    // An unknown command or a bad flag: the user's to fix, on stderr.
    process.stderr.write(cli.error(error as Error));
    process.exit(1);
  }
  const code = await cli.run(command, context);
  process.exitCode = (command as Command & { failed?: boolean }).failed ? 1 : code;
}

// A function, not top-level await: the single executable's bundle is CommonJS (Node 22's SEA main cannot be a module).
void main(process.argv.slice(2));
