import { Command } from "clipanion";
import { existsSync, rmSync } from "node:fs";
import { systemctl, systemdRunning } from "../../service/systemd.ts";
import { ServiceCommand } from "./base.ts";

/** `petit service uninstall`: stop, disable and remove the unit `petit service install` wrote. */
export class ServiceUninstallCommand extends ServiceCommand {
  static override paths = [["service", "uninstall"]];
  static override usage = Command.Usage({
    category: "Operations",
    description: "Stop and remove the systemd service",
    details: `
      Reverses \`petit service install\`: \`systemctl disable --now\` (for the relay this stops petit-serverd, its sshd and every tunnel), removes the unit file and reloads systemd. Give it the same \`--server\` and \`--user\` as the install. Running it when no unit is installed is fine (exit 0).
    `,
    examples: [["Remove the client's unit", "sudo $0 service uninstall"], ["Remove the relay's unit", "sudo $0 service uninstall --server"]],
  });

  async execute(): Promise<number> {
    const path = this.unitPath;
    if (!existsSync(path)) {
      this.out(`No ${this.unitName} in ${this.unitDir ?? "the unit folder"} (${path}): nothing to uninstall`);
      return 0;
    }
    const tellSystemd = !this.unitDir && systemdRunning();
    if (tellSystemd) {
      try {
        await systemctl(this.scope, ["disable", "--now", this.unitName]);
        this.out(`Ran ${this.systemctlName} disable --now ${this.unitName}`);
      } catch (error) {
        // Removing the file is still right; say what systemd thought.
        this.err(`${(error as Error).message}; removing the unit anyway`);
      }
    }
    try {
      rmSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      this.err(`Cannot remove "${path}": ${code ?? (error as Error).message}${code === "EACCES" ? ` (run "sudo petit service uninstall${this.flags}")` : ""}`);
      return 1;
    }
    this.out(`Removed ${path}`);
    if (tellSystemd) {
      await systemctl(this.scope, ["daemon-reload"]).then(
        () => this.out(`Ran ${this.systemctlName} daemon-reload`),
        (error) => this.err((error as Error).message),
      );
    }
    return 0;
  }
}
