/**
 * Writes the files of the Debian package that petit's own code defines into
 * a folder: the man page (petit.1) and bash completion (petit.bash) from the
 * clipanion definitions, and the two systemd units from renderUnit(), the
 * same code as "petit service install".
 * Usage: node --import tsx scripts/package/generate.ts OUT_DIR VERSION
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultConfigFile, SYSTEM_STATE_DIR } from "../../lib/paths.ts";
import { renderUnit, unitFileName, type Role } from "../../lib/service/unit.ts";
import { renderBashCompletion } from "./completion.ts";
import { commandDefinitions } from "./definitions.ts";
import { renderManPage } from "./man.ts";

/** Where the package installs the executable. */
export const PACKAGED_EXECUTABLE = "/usr/bin/petit";

/** Returns the text of the packaged unit for `role`. */
export function packagedUnit(role: Role): string {
  const configFile = defaultConfigFile({}, { uid: 0, isDirectory: () => true });
  return renderUnit({
    role, scope: "system", home: SYSTEM_STATE_DIR, packagedFor: configFile,
    command: [PACKAGED_EXECUTABLE, ...(role === "server" ? ["server", "up"] : ["up"]), "--foreground"],
  });
}

if (process.argv[1] === import.meta.filename) {
  const [out, version] = process.argv.slice(2);
  if (!out || !version) throw new Error("Usage: generate.ts OUT_DIR VERSION");
  const definitions = await commandDefinitions(version);
  // SOURCE_DATE_EPOCH, when set, keeps the build reproducible.
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  const date = (Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000) : new Date()).toISOString().slice(0, 10);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "petit.1"), renderManPage(definitions, version, date));
  writeFileSync(join(out, "petit.bash"), renderBashCompletion(definitions));
  for (const role of ["server", "client"] as const) writeFileSync(join(out, unitFileName(role)), packagedUnit(role));
}
