import { Command } from "clipanion";

/** `petit version`: the same as `petit --version`, for those who type it as a word. */
export class VersionCommand extends Command {
  static override paths = [["version"]];
  static override usage = Command.Usage({
    description: "Print petit's version",
    details: "The same as `petit --version`: the version of the package petit was built from.",
  });

  async execute(): Promise<number> {
    this.context.stdout.write(`${this.cli.binaryVersion ?? "<unknown>"}\n`);
    return 0;
  }
}
