import { Command, Option, UsageError } from "clipanion";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { followLog, lastLines } from "../daemon/log-tail.ts";
import { defaultUnitDir } from "../service/systemd.ts";
import { unitFileName } from "../service/unit.ts";
import { PetitCommand } from "./base.ts";

/** Where packages install their units (systemd's vendor folders). */
const PACKAGE_UNIT_DIRS = ["/lib/systemd/system", "/usr/lib/systemd/system"];

/** `petit logs`: the last lines of the client's or the relay's log, and following it. */
export class LogsCommand extends PetitCommand {
  static override paths = [["logs"]];
  static override usage = Command.Usage({
    category: "Operations",
    description: "Show the daemon's log",
    details: `
      Prints the last lines of petit-clientd's log (\`client/clientd.log\` under PETIT_HOME) or, with \`--server\`, petit-serverd's (\`server/serverd.log\`; sshd's own is \`server/sshd.log\`). With \`-f\` it keeps printing what is added, across rotations, until Ctrl-C.

      The daemons write these files when started by \`petit up\` or \`petit server up\`, and rotate them past 10 MiB (keeping \`.1\` to \`.3\`). Under systemd (\`--foreground\`) they log to the journal instead: \`journalctl -u petit\`.
    `,
    examples: [["The client's last 50 lines", "$0 logs"], ["Follow the relay's log", "$0 logs --server -f"], ["The last 200 lines", "$0 logs -n 200"]],
  });

  follow = Option.Boolean("-f,--follow", false, { description: "Keep printing new lines until Ctrl-C" });
  server = Option.Boolean("--server", false, { description: "The relay's log instead of the client's" });
  lines = Option.String("-n,--lines", "50", { description: "How many lines to print (default 50)" });

  async execute(): Promise<number> {
    const count = Number(this.lines);
    if (!/^\d+$/.test(this.lines) || !Number.isSafeInteger(count)) {
      throw new UsageError(`-n must be a number of lines (0 or more), got "${this.lines}"`);
    }
    const file = this.server ? this.serverPaths.daemonLog : this.clientPaths.daemonLog;
    const unit = unitFileName(this.server ? "server" : "client");
    // The Debian package ships its units in /lib/systemd/system; "petit service install" writes them to defaultUnitDir().
    const packaged = PACKAGE_UNIT_DIRS.some((dir) => existsSync(join(dir, unit)));
    const inUnit = packaged ? "system" : (["system", "user"] as const).find((scope) => existsSync(join(defaultUnitDir(scope), unit)));
    if (inUnit) this.err(`(${unit} is installed: under systemd the log is in the journal: journalctl${inUnit === "user" ? " --user" : ""} -u ${unit})`);
    let end = 0;
    if (existsSync(file)) {
      const tail = lastLines(file, count);
      this.context.stdout.write(tail.text);
      end = tail.end;
    } else if (!this.follow) {
      this.err(`No log at "${file}": ${this.server ? "petit-serverd" : "petit-clientd"} has not run in the background with PETIT_HOME "${this.home}" (start it with "petit ${this.server ? "server up" : "up"}")`);
      return 1;
    }
    if (!this.follow) return 0;
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    // A closed pipe (petit logs -f | head) ends following instead of crashing.
    this.context.stdout.on("error", stop);
    try {
      await followLog(file, { from: end, signal: abort.signal, write: (chunk) => this.context.stdout.write(chunk) });
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
    return 0;
  }
}
