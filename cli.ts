#!/usr/bin/env node
/**
 * petit: a small self-hosted reverse-tunnel relay on stock OpenSSH.
 * The entry point: every command lives in lib/commands/, one per file.
 * @module
 */
import { Builtins, Cli } from "clipanion";
import { DownCommand } from "./lib/commands/down.ts";
import { RegisterCommand } from "./lib/commands/register.ts";
import { ServerClientsCommand } from "./lib/commands/server/clients.ts";
import { ServerDownCommand } from "./lib/commands/server/down.ts";
import { ServerInitCommand } from "./lib/commands/server/init.ts";
import { ServerTokenCommand } from "./lib/commands/server/token.ts";
import { ServerUpCommand } from "./lib/commands/server/up.ts";
import { StatusCommand } from "./lib/commands/status.ts";
import { UpCommand } from "./lib/commands/up.ts";

/** The version printed by `petit --version`. */
export const VERSION = "0.1.0";

const cli = new Cli({ binaryLabel: "petit", binaryName: "petit", binaryVersion: VERSION });
for (const command of [
  RegisterCommand, UpCommand, DownCommand, StatusCommand,
  ServerInitCommand, ServerTokenCommand, ServerUpCommand, ServerDownCommand, ServerClientsCommand,
  Builtins.HelpCommand, Builtins.VersionCommand,
]) cli.register(command);

const code = await cli.run(process.argv.slice(2), Cli.defaultContext);
process.exitCode = code;
