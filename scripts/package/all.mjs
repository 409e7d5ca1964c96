/**
 * `npm run package`: builds everything petit ships into dist/ — the bundle
 * (dist/petit.mjs, what the npm package runs), the single executables
 * (dist/petit-linux-x64, dist/petit-linux-arm64), and the Debian packages
 * when scripts/package/deb.mjs exists (it builds them from the executables).
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");

/** Runs `node <script> ...args` from the repository root, its output passed through. */
function step(script, args = []) {
  execFileSync(process.execPath, [join(root, script), ...args], { cwd: root, stdio: "inherit" });
}

step("scripts/build.mjs");
step("scripts/package/sea.mjs", process.argv.slice(2));
// The Debian packages are built from the executables above.
if (existsSync(join(root, "scripts/package/deb.mjs"))) step("scripts/package/deb.mjs");
