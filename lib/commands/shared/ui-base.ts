/**
 * What `petit ui` and `petit server ui` share: `--open`, and asking their
 * daemon (with its control secret) for a one-time login link to print.
 * @module
 */
import { Option } from "clipanion";
import { readSecret } from "../../secrets.ts";
import { loginLink, showLoginLink } from "../../ui/login-link.ts";
import { PetitCommand } from "../base.ts";

/** The daemon a login link comes from, and how to start it when it does not answer. */
export interface UiDaemon {
  /** Its control port on 127.0.0.1. */
  port: number;
  /** The file holding its control secret. */
  secretFile: string;
  /** Its name in messages ("petit-clientd"). */
  name: string;
  /** The command that starts it ("petit up"). */
  startCommand: string;
}

/** Base class of the `ui` commands: prints (and with --open, opens) a login link from `daemon()`. */
export abstract class UiCommandBase extends PetitCommand {
  open = Option.Boolean("--open", false, { description: "Also open it with xdg-open" });

  /** Which daemon to ask; reads the config, so it may throw a UsageError. */
  abstract daemon(): UiDaemon;

  async execute(): Promise<number> {
    const { port, secretFile, name, startCommand } = this.daemon();
    const secret = readSecret(secretFile);
    const link = secret ? await loginLink({ port, secret }) : undefined;
    if (!link) {
      this.err(`${name} is not running on 127.0.0.1:${port}: start it with "${startCommand}"`);
      return 1;
    }
    await showLoginLink(link, this.open, (line) => this.out(line), (line) => this.err(line));
    return 0;
  }
}
