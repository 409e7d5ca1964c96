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
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { acmeClientAsText } from "../bundle-acme.mjs";
import { ensureRuntime, runtimeVersion, TARGETS } from "./runtimes.mjs";

const require = createRequire(import.meta.url);
const root = resolve(import.meta.dirname, "../..");

/** The fuse postject flips so node knows a blob is injected (the value Node's SEA documentation gives). */
const SENTINEL_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
/** The resource name node looks the blob up by. */
const RESOURCE = "NODE_SEA_BLOB";

/** Bundles cli.ts into `work`/petit.cjs for node `nodeVersion`. */
export async function bundleForSea(work, nodeVersion) {
  const outfile = join(work, "petit.cjs");
  await build({
    entryPoints: [join(root, "cli.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: `node${nodeVersion}`,
    format: "cjs",
    // Less text for V8 to hash and check against the code cache at each start (1.4 MB instead of 1.9);
    // identifiers stay, so a stack trace still names petit's functions.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "none",
    // pg's optional native binding (libpq): never used, and not installed.
    external: ["pg-native"],
    plugins: [acmeClientAsText(`node${nodeVersion}`)],
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
function makeBlob(work, target, main, generator) {
  const codeCache = archOf(target) === process.arch;
  const config = join(work, `sea-config-${target}.json`);
  const blob = join(work, `petit-${target}.blob`);
  writeFileSync(config, `${JSON.stringify({
    main, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: codeCache,
  }, null, 2)}\n`);
  execFileSync(generator, ["--experimental-sea-config", config], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  return { blob, codeCache };
}

/** GNU triplets of the targets, for binutils' cross tools (`aarch64-linux-gnu-strip`). */
const TRIPLETS = { "linux-x64": "x86_64-linux-gnu", "linux-arm64": "aarch64-linux-gnu" };

/**
 * Returns a strip that handles `target`'s binaries, or undefined: llvm-strip
 * (every architecture), the host's strip for the host's target, else
 * binutils' cross strip (Debian: binutils-aarch64-linux-gnu).
 */
function stripFor(target) {
  const candidates = ["llvm-strip", ...(archOf(target) === process.arch ? ["strip"] : []), `${TRIPLETS[target]}-strip`];
  return candidates.find((program) => {
    try {
      execFileSync(program, ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Strips the node binary's symbols and debug info (17 MiB of its 120), before
 * the blob goes in. Debian's lintian refuses unstripped binaries; the dynamic
 * symbols native addons link against stay.
 */
function strip(file, target, log) {
  const program = stripFor(target);
  if (!program) {
    log(`no strip for ${target} here (apt-get install llvm or binutils-${TRIPLETS[target]}): dist/petit-${target} keeps node's debug info`);
    return false;
  }
  execFileSync(program, ["--strip-all", file], { stdio: ["ignore", "ignore", "inherit"] });
  return true;
}

/**
 * Injects `blob` into `file` with postject, less the warnings its ELF library
 * prints about node's note sections (harmless: nine of them at each build).
 */
async function injectQuietly(file, blob) {
  const { inject } = require("postject");
  const warn = console.warn;
  console.warn = (...args) => {
    if (!/^warning: Can't find string offset for section name/.test(String(args[0]))) warn(...args);
  };
  try {
    await inject(file, RESOURCE, blob, { sentinelFuse: SENTINEL_FUSE });
  } finally {
    console.warn = warn;
  }
}

/** Builds dist/petit-<target> from `main` (files made on the way go to `work`); returns its path, whether it has a code cache and is stripped. */
export async function buildExecutable(work, target, main, log) {
  const node = ensureRuntime(target, log);
  // The blob generator: the target's own node when it runs here, else the host arch's binary of the same version.
  const generator = archOf(target) === process.arch ? node : ensureRuntime(`linux-${process.arch}`, log);
  if (runtimeVersion(`linux-${process.arch}`) !== runtimeVersion(target)) {
    throw new Error(`Cannot make the blob for ${target}: its node ${runtimeVersion(target)} differs from linux-${process.arch}'s ${runtimeVersion(`linux-${process.arch}`)}`);
  }
  const { blob, codeCache } = makeBlob(work, target, main, generator);
  const out = join(root, "dist", `petit-${target}`);
  // Made beside it and renamed over it: whoever runs dist/petit-<target> meanwhile gets the old one or the new one, whole.
  const partial = `${out}.partial-${process.pid}`;
  let stripped = false;
  try {
    copyFileSync(node, partial);
    chmodSync(partial, 0o755);
    stripped = strip(partial, target, log);
    await injectQuietly(partial, readFileSync(blob));
    renameSync(partial, out);
  } finally {
    rmSync(partial, { force: true });
    rmSync(blob, { force: true });
  }
  return { path: out, codeCache, stripped };
}

async function main() {
  const targets = process.argv.slice(2).length ? process.argv.slice(2) : TARGETS;
  for (const target of targets) {
    if (!TARGETS.includes(target)) throw new Error(`Unknown target "${target}": expected one of ${TARGETS.join(", ")}`);
  }
  const log = (line) => process.stderr.write(`sea: ${line}\n`);
  // A folder of this build's own: builds running at once (a test and `npm run package`) do not share files.
  mkdirSync(join(root, "dist"), { recursive: true });
  const work = mkdtempSync(join(root, "dist", ".sea-"));
  try {
    const main = await bundleForSea(work, runtimeVersion(targets[0]));
    for (const target of targets) {
      const started = Date.now();
      const { path, codeCache, stripped } = await buildExecutable(work, target, main, log);
      const mib = (statSync(path).size / 1024 / 1024).toFixed(1);
      console.log(`built ${path.slice(root.length + 1)} (${mib} MiB, node ${runtimeVersion(target)}, ${codeCache ? "with" : "without"} code cache, ${stripped ? "stripped" : "not stripped"}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.filename === process.argv[1]) await main();
