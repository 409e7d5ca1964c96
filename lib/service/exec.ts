/**
 * The command line a systemd unit runs: this same petit, the way it runs now.
 * @module
 */
import { isAbsolute } from "node:path";
import { selfCommand } from "../daemon/self.ts";

/** Node flags whose value names a module, resolved from the working folder when bare (`--import tsx`). */
const MODULE_FLAGS = new Set(["--import", "--require", "-r", "--loader", "--experimental-loader"]);

/**
 * Returns the argv that runs `petit <args>` as selfCommand() finds it (the
 * single executable, node on the bundle, node through tsx, or Deno), and the
 * folder to start in when that argv names a module relative to the current one.
 * @example serviceCommand(["up", "--foreground"]) // { argv: ["/usr/bin/node", "/opt/petit/dist/petit.mjs", "up", "--foreground"] }
 */
export function serviceCommand(
  args: string[], self = selfCommand(), cwd = process.cwd(),
): { argv: string[]; workingDirectory?: string } {
  const relative = self.args.some((arg, i) => namesRelativeModule(arg, self.args[i - 1]));
  return { argv: [self.program, ...self.args, ...args], ...(relative ? { workingDirectory: cwd } : {}) };
}

function namesRelativeModule(arg: string, previous: string | undefined): boolean {
  if (previous !== undefined && MODULE_FLAGS.has(previous)) return isBare(arg);
  const eq = arg.indexOf("=");
  return eq > 0 && MODULE_FLAGS.has(arg.slice(0, eq)) && isBare(arg.slice(eq + 1));
}

function isBare(specifier: string): boolean {
  return !isAbsolute(specifier) && !/^(file|data|node):/.test(specifier);
}
