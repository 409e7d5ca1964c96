import { Command, Option } from "clipanion";
import { ConfigError, readConfig } from "../config/file.ts";
import { findUntrusted, type TrustProblem } from "../config/file-trust.ts";
import { filesBeforeConfig, filesOfConfig } from "../config/trusted-files.ts";
import type { PetitConfig } from "../config/schema.ts";
import { readFileIfExists } from "../fs-atomic.ts";
import { allPassed } from "../doctor/check.ts";
import { diagnose } from "../doctor/diagnose.ts";
import { formatResults, formatSummary } from "../doctor/format.ts";
import { PetitCommand } from "./base.ts";

/** `petit doctor`: check this installation and say how to fix what is wrong. */
export class DoctorCommand extends PetitCommand {
  static override paths = [["doctor"]];
  static override usage = Command.Usage({
    category: "Operations",
    description: "Check this installation and print the fix for each problem",
    details: `
      Runs the checks of each role this PETIT_HOME has in config.toml ([server] and/or [client]) and prints one line per check: \`ok\`, \`warn\` or \`fail\`, its name, what it found and, for a warning or failure, the command to run or the config key to change. Each check has a time limit of a few seconds.

      Client: ssh version, key file, config, relay DNS, relay API and SSH port, clock skew, pinned host key, registration (an ssh login with the key), daemon, tunnel, local target. Relay: sshd version, \`sshd -t\` on the generated config, petit-serverd, its four ports, the tunnel port range, file modes, registry versus authorized_keys.

      Exit code 0 when nothing fails (warnings allowed), 1 otherwise.
    `,
    examples: [["Check everything", "$0 doctor"], ["For scripts", "$0 doctor --json"]],
  });

  json = Option.Boolean("--json", false, { description: "Print an array of {role, check, status, message, fix}" });

  async execute(): Promise<number> {
    const configFile = this.configFile;
    // Read here, not through readConfig(): a bad config is a finding to report, not an error to stop at.
    let config: PetitConfig | undefined;
    let configError: string | undefined;
    // Files another account could change are a finding too; doctor then runs none of the programs they name.
    let untrusted: TrustProblem[] = findUntrusted(filesBeforeConfig(this.home, configFile));
    try {
      if (!untrusted.length) config = readConfig(configFile);
      if (config) untrusted = findUntrusted(filesOfConfig(this.home, config));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      configError = error.message;
    }
    const results = await diagnose({ home: this.home, configFile, config, configError, configText: readFileIfExists(configFile), untrusted });
    if (this.json) {
      this.out(JSON.stringify(results, null, 2));
    } else {
      for (const line of formatResults(results)) this.out(line);
      this.out(formatSummary(results));
    }
    return allPassed(results) ? 0 : 1;
  }
}
