#!/usr/bin/env node
/**
 * petit: a small self-hosted reverse-tunnel relay on stock OpenSSH.
 * The entry point: every command lives in lib/commands/, one per file.
 * @module
 */
import { Builtins, Cli, type Command } from "clipanion";
// The one copy of the version: esbuild bundles it into dist/petit.mjs; tsx and Deno read it.
import packageJson from "./package.json" with { type: "json" };
import { ConnectCommand } from "./lib/commands/connect.ts";
import { DoctorCommand } from "./lib/commands/doctor.ts";
import { DownCommand } from "./lib/commands/down.ts";
import { PetitCli } from "./lib/commands/shared/petit-cli.ts";
import { LogsCommand } from "./lib/commands/logs.ts";
import { PauseCommand } from "./lib/commands/pause.ts";
import { RegisterCommand } from "./lib/commands/register.ts";
import { ResumeCommand } from "./lib/commands/resume.ts";
import { ServerAccessCommand } from "./lib/commands/server/access.ts";
import { ServerClientsCommand } from "./lib/commands/server/clients.ts";
import { ServerDownCommand } from "./lib/commands/server/down.ts";
import { ServerRevokeCommand } from "./lib/commands/server/revoke.ts";
import { ServerRestartCommand } from "./lib/commands/server/restart.ts";
import { ServerInitCommand } from "./lib/commands/server/init.ts";
import { ServerTokenCommand } from "./lib/commands/server/token.ts";
import { ServerTokenCreateCommand } from "./lib/commands/server/token/create.ts";
import { ServerTokenListCommand } from "./lib/commands/server/token/list.ts";
import { ServerTokenRevokeCommand } from "./lib/commands/server/token/revoke.ts";
import { ServerTokenRotateCommand } from "./lib/commands/server/token/rotate.ts";
import { ServerUiCommand } from "./lib/commands/server/ui.ts";
import { ServerUpCommand } from "./lib/commands/server/up.ts";
import { ServerUninstallSshdCommand } from "./lib/commands/server/uninstall-sshd.ts";
import { ServiceInstallCommand } from "./lib/commands/service/install.ts";
import { ServiceUninstallCommand } from "./lib/commands/service/uninstall.ts";
import { StatusCommand } from "./lib/commands/status.ts";
import { UiCommand } from "./lib/commands/ui.ts";
import { UpCommand } from "./lib/commands/up.ts";
import { VersionCommand } from "./lib/commands/version.ts";

/** The version printed by `petit --version` and `petit version`: package.json's. */
export const VERSION: string = packageJson.version;

const cli = new PetitCli({
  binaryLabel: "petit", binaryName: "petit", binaryVersion: VERSION,
  enableColors: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
});
for (const command of [
  RegisterCommand, UpCommand, DownCommand, StatusCommand, ConnectCommand,
  ServerInitCommand, ServerTokenCommand, ServerTokenCreateCommand, ServerTokenListCommand, ServerTokenRevokeCommand, ServerTokenRotateCommand,
  ServerUpCommand, ServerDownCommand, ServerRestartCommand, ServerClientsCommand, ServerRevokeCommand, ServerAccessCommand,
  ServerUninstallSshdCommand,
  DoctorCommand,
  LogsCommand, ServiceInstallCommand, ServiceUninstallCommand,
  PauseCommand, ResumeCommand, UiCommand, ServerUiCommand,
  Builtins.HelpCommand, Builtins.VersionCommand, VersionCommand,
]) cli.register(command);

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
