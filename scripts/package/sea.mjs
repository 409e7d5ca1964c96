/**
 * Builds petit as one self-contained executable per target,
 * dist/petit-linux-x64 and dist/petit-linux-arm64: Node's single executable
 * application (SEA), the pinned node binary with petit's bundle injected.
 *
 * Steps: esbuild bundles cli.ts into one CommonJS file (Node 22's SEA main
 * cannot be a module) → a SEA config → the blob, made by the pinned node
 * itself (a blob only runs in the node version that made it) → a copy of the
 * target's node binary → postject injects the blob and flips the sentinel
 * fuse. No network beyond the first install of the pinned binaries.
 *
 * Usage: node scripts/package/sea.mjs [linux-x64|linux-arm64 ...] (default: both)
 * @module
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { ensureRuntime, runtimeVersion, TARGETS } from "./runtimes.mjs";

const require = createRequire(import.meta.url);
const root = resolve(import.meta.dirname, "../..");
const work = join(root, "dist", "sea");

/** The fuse postject flips so node knows a blob is injected (the value Node's SEA documentation gives). */
const SENTINEL_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
/** The resource name node looks the blob up by. */
const RESOURCE = "NODE_SEA_BLOB";

/** Bundles cli.ts into dist/sea/petit.cjs for node `nodeVersion`. */
export async function bundleForSea(nodeVersion) {
  mkdirSync(work, { recursive: true });
  const outfile = join(work, "petit.cjs");
  await build({
    entryPoints: [join(root, "cli.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: `node${nodeVersion}`,
    format: "cjs",
    minify: false,
    legalComments: "none",
    logLevel: "warning",
  });
  return outfile;
}

/** The architecture a target's binary runs on, in process.arch's words. */
function archOf(target) {
  return target.split("-")[1];
}

/**
 * Makes the SEA blob for `target` with `generator`, a node of the target's
 * version that runs here. Code cache only when the target runs here too:
 * V8's cache is made for the CPU that makes it.
 */
function makeBlob(target, main, generator) {
  const codeCache = archOf(target) === process.arch;
  const config = join(work, `sea-config-${target}.json`);
  const blob = join(work, `petit-${target}.blob`);
  writeFileSync(config, `${JSON.stringify({
    main, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: codeCache,
  }, null, 2)}\n`);
  execFileSync(generator, ["--experimental-sea-config", config], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  return { blob, codeCache };
}

/** Builds dist/petit-<target> from `main`; returns its path and whether it carries a code cache. */
export async function buildExecutable(target, main, log) {
  const node = ensureRuntime(target, log);
  // The blob generator: the target's own node when it runs here, else the host arch's binary of the same version.
  const generator = archOf(target) === process.arch ? node : ensureRuntime(`linux-${process.arch}`, log);
  if (runtimeVersion(`linux-${process.arch}`) !== runtimeVersion(target)) {
    throw new Error(`Cannot make the blob for ${target}: its node ${runtimeVersion(target)} differs from linux-${process.arch}'s ${runtimeVersion(`linux-${process.arch}`)}`);
  }
  const { blob, codeCache } = makeBlob(target, main, generator);
  const out = join(root, "dist", `petit-${target}`);
  rmSync(out, { force: true });
  copyFileSync(node, out);
  chmodSync(out, 0o755);
  const { inject } = require("postject");
  await inject(out, RESOURCE, readFileSync(blob), { sentinelFuse: SENTINEL_FUSE });
  rmSync(blob, { force: true });
  return { path: out, codeCache };
}

async function main() {
  const targets = process.argv.slice(2).length ? process.argv.slice(2) : TARGETS;
  for (const target of targets) {
    if (!TARGETS.includes(target)) throw new Error(`Unknown target "${target}": expected one of ${TARGETS.join(", ")}`);
  }
  const log = (line) => process.stderr.write(`sea: ${line}\n`);
  const main = await bundleForSea(runtimeVersion(targets[0]));
  for (const target of targets) {
    const started = Date.now();
    const { path, codeCache } = await buildExecutable(target, main, log);
    const mib = (statSync(path).size / 1024 / 1024).toFixed(1);
    console.log(`built ${path.slice(root.length + 1)} (${mib} MiB, node ${runtimeVersion(target)}, ${codeCache ? "with" : "without"} code cache) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

if (import.meta.filename === process.argv[1]) await main();
