// Bundles cli.ts and its npm dependencies into one file, dist/petit.mjs, that runs with plain node.
import { build } from "esbuild";
import { chmodSync } from "node:fs";
import { acmeClientAsText } from "./bundle-acme.mjs";

await build({
  entryPoints: ["cli.ts"],
  outfile: "dist/petit.mjs",
  bundle: true,
  platform: "node",
  target: "node20.18",
  format: "esm",
  minify: false,
  legalComments: "none",
  // Some dependencies are CommonJS and call require(): give the ESM bundle one.
  banner: { js: "import { createRequire as __petitRequire } from 'node:module'; const require = __petitRequire(import.meta.url);" },
  // pg's optional native binding (libpq): never used, and not installed.
  external: ["pg-native"],
  plugins: [acmeClientAsText("node20.18")],
  logLevel: "warning",
});
chmodSync("dist/petit.mjs", 0o755);
console.log("built dist/petit.mjs");
