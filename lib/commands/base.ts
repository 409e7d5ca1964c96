/**
 * What every petit command shares: where the installation lives and how its
 * config is read. Only commands read config; lib/ takes settings as arguments.
 * @module
 */
import { Command, Option, UsageError } from "clipanion";
import { ConfigError, readConfig } from "../config/file.ts";
import { checkTrusted, TrustError } from "../config/file-trust.ts";
import { filesBeforeConfig, filesOfConfig } from "../config/trusted-files.ts";
import type { ClientConfig, PetitConfig, ServerConfig } from "../config/schema.ts";
import { callDaemon, ControlError, type CallOptions } from "../daemon/control-client.ts";
import { clientPaths, defaultConfigFile, petitHome, serverPaths } from "../paths.ts";

/** Base class: `--config` and the PETIT_HOME layout. */
export abstract class PetitCommand extends Command {
  configOption = Option.String("--config", {
    description: "Config file to use instead of $PETIT_HOME/config.toml (/etc/petit/config.toml for root's petit of the Debian package)",
    env: "PETIT_CONFIG",
  });

  /** Set when execute() threw; the entry point then exits 1. */
  failed = false;

  /** Errors go to stderr (clipanion's default is stdout), then exit 1. */
  override async catch(error: unknown): Promise<void> {
    this.failed = true;
    // A daemon's refusal or silence (ControlError), or the relay's (RegistrationError, with a status): the message is the whole story.
    // A missing, unreadable or untrusted config is not a typing mistake: no "Usage Error" label, no usage line.
    if (error instanceof ConfigError || error instanceof TrustError || error instanceof ControlError ||
        (error instanceof Error && typeof (error as { status?: unknown }).status === "number")) {
      this.context.stderr.write(`Error: ${error.message}\n`);
      return;
    }
    this.context.stderr.write(this.cli.error(error as Error, { command: this }));
  }

  get home(): string {
    return petitHome();
  }

  get configFile(): string {
    return this.configOption ?? defaultConfigFile();
  }

  get serverPaths() {
    return serverPaths(this.home);
  }

  get clientPaths() {
    return clientPaths(this.home);
  }

  /**
   * Reads the config; throws ConfigError for a bad file (printed as "Error: …", exit 1).
   * Refuses first when another account could change the home, the config or
   * a file the config makes petit run or trust (see config/file-trust.ts).
   */
  readConfig(): PetitConfig {
    // Before parsing: a config another account wrote must not even choose which files are checked next.
    checkTrusted(filesBeforeConfig(this.home, this.configFile));
    const config = readConfig(this.configFile);
    checkTrusted(filesOfConfig(this.home, config));
    return config;
  }

  serverConfig(): ServerConfig {
    const config = this.readConfig().server;
    if (!config) throw new ConfigError(`No [server] section in "${this.configFile}": run "petit server init --domain DOMAIN" first`);
    return config;
  }

  /** Calls petit-serverd's control API with its secret; undefined when the relay is not running. */
  async callServer<T>(path: string, init?: CallOptions): Promise<T | undefined> {
    return callDaemon<T>({ secretFile: this.serverPaths.controlSecret, port: () => this.serverConfig().control_port }, path, init);
  }

  clientConfig(): ClientConfig {
    const config = this.readConfig().client;
    if (!config) throw new ConfigError(`No [client] section in "${this.configFile}": run "petit register URL --token TOKEN" first`);
    return config;
  }

  /** Writes a line to stdout. */
  out(line: string): void {
    this.context.stdout.write(line + "\n");
  }

  /** Writes a line to stderr. */
  err(line: string): void {
    this.context.stderr.write(line + "\n");
  }
}

/** Parses a port option; throws a UsageError naming the flag. */
export function portOption(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`${flag} must be a port number from 1 to 65535, got "${value}"`);
  }
  return port;
}

/** A line-logger with ISO timestamps, for daemons. */
export function timestampedLog(stream: NodeJS.WritableStream): (line: string) => void {
  return (line) => stream.write(`${new Date().toISOString()} ${line}\n`);
}
