/**
 * petit's clipanion Cli: the same, except that `--help` names each option's
 * value (`--domain DOMAIN`) where clipanion 4 prints a bare `#0`.
 * @module
 */
import { Cli } from "clipanion";

/**
 * Value names that read better than the option's own name in capitals.
 * Keyed by option, or by "command path option" where one option name means
 * different things in different commands.
 */
export const VALUE_NAMES: Readonly<Record<string, string>> = {
  "--config": "FILE",
  "--to": "HOST:PORT",
  "--tunnel": "NAME=HOST:PORT",
  "--expires": "DURATION",
  "--uses": "N",
  "--lines": "N",
  "--allow-from": "CIDRS",
  "--http-port": "PORT",
  "--api-port": "PORT",
  "--control-port": "PORT",
  "--ssh-port": "PORT",
  "--ssh-host": "HOST",
  "--port-range": "FIRST-LAST",
  "--sshd-path": "PATH",
  "--ssh-mode": "managed|system",
  "--relay": "URL",
  "--fingerprint": "SHA256:…",
  "--unit-dir": "DIR",
  "server init --listen": "ADDRESS",
  "connect --listen": "HOST:PORT",
};

/**
 * Returns the name `--help` shows for the value of option `names` (as
 * clipanion lists them: "-n,--lines") of the command at `path`.
 *
 * @example
 * valueName("server init", "--domain"); // "DOMAIN"
 */
export function valueName(path: string, names: string): string {
  const long = names.split(",").at(-1) ?? names;
  return VALUE_NAMES[`${path} ${long}`] ?? VALUE_NAMES[long] ?? long.replace(/^-+/, "").replaceAll("-", "_").toUpperCase();
}

/** Replaces clipanion's `#0` placeholders in `text` (a usage line or an option's definition) with value names. */
export function nameValues(text: string, path: string): string {
  return text.replace(/(^|[\s[<])(-[\w-]*(?:,-[\w-]*)*)((?: #\d+)+)/g, (_, before: string, names: string, values: string) => {
    const name = valueName(path, names);
    return `${before}${names}${values.replace(/#\d+/g, name)}`;
  });
}

/** A clipanion Cli whose usage texts (`--help`, usage errors, the command list) name option values. */
export class PetitCli extends Cli {
  /** Error texts quote usage lines too (an unknown option lists the candidates' usages), each behind "petit ". */
  override error(...args: Parameters<Cli["error"]>): string {
    return super.error(...args).split("\n").map((line) => {
      const at = line.indexOf("petit ");
      return at < 0 ? line : nameValues(line, this.#pathAt(line.slice(at + "petit ".length)));
    }).join("\n");
  }

  /** Returns the longest registered command path `usage` starts with. */
  #pathAt(usage: string): string {
    let best = "";
    for (const commandClass of this.registrations.keys()) {
      for (const path of commandClass.paths ?? []) {
        const words = path.join(" ");
        if (words.length > best.length && (usage === words || usage.startsWith(words + " "))) best = words;
      }
    }
    return best;
  }

  protected override getUsageByIndex(n: number, opts?: { detailed?: boolean; inlineOptions?: boolean }): ReturnType<Cli["getUsageByIndex"]> {
    const { usage, options } = super.getUsageByIndex(n, opts);
    const path = this.#pathAt(usage.replace(/^petit /, ""));
    return {
      usage: nameValues(usage, path),
      options: options.map((option) => ({ ...option, definition: nameValues(option.definition, path) })),
    };
  }
}
