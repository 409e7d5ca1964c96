// An esbuild plugin both bundles use (scripts/build.mjs, scripts/package/sea.mjs). acme-client and its
// dependencies are ~1 MB of JavaScript that only a relay with [server.acme] runs, yet V8 would parse all of it at
// every start of every command. So they are bundled apart into CommonJS text, embedded as one string (which V8
// only scans), and compiled the first time the relay orders a certificate (lib/server/acme/issuer.ts is imported
// lazily). Two dependencies petit never runs are left out: node-forge (only acme-client's legacy `forge` export
// uses it) and form-data (axios sends multipart bodies with it; acme-client sends JSON).
import { build } from "esbuild";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** Stand-ins for what petit leaves out of acme-client's bundle. */
const STUBS = {
  // axios only tests `instanceof FormData` on what it sends: a class nothing is an instance of.
  "form-data": "module.exports = class FormData { constructor() { throw new Error('petit leaves form-data out of its bundle'); } };",
  "acme-client-forge": "module.exports = {};",
};

/** Returns the plugin; `target` is the bundle's esbuild target ("node20.18"). */
export function acmeClientAsText(target) {
  return {
    name: "petit-acme-client-as-text",
    setup(outer) {
      outer.onResolve({ filter: /^acme-client$/ }, () => ({ path: "acme-client", namespace: "petit-acme" }));
      outer.onLoad({ filter: /.*/, namespace: "petit-acme" }, async () => {
        const inner = await build({
          entryPoints: [require.resolve("acme-client")], bundle: true, platform: "node", target, format: "cjs",
          write: false, minifyWhitespace: true, legalComments: "none", logLevel: "warning",
          plugins: [{
            name: "petit-trim-acme-client",
            setup(b) {
              b.onResolve({ filter: /^\.\/crypto\/forge$/ }, (args) =>
                /acme-client\/src\//.test(args.importer) ? { path: "acme-client-forge", namespace: "petit-stub" } : undefined);
              b.onResolve({ filter: /^form-data$/ }, (args) =>
                /node_modules\/axios\//.test(args.importer) ? { path: "form-data", namespace: "petit-stub" } : undefined);
              b.onLoad({ filter: /.*/, namespace: "petit-stub" }, (args) => ({ loader: "js", contents: STUBS[args.path] }));
            },
          }],
        });
        const text = inner.outputFiles[0].text;
        return {
          loader: "js",
          resolveDir: process.cwd(),
          contents: `const { runInThisContext } = require("node:vm");
const module_ = { exports: {} };
runInThisContext("(function (exports, require, module) {" + ${JSON.stringify(text)} + "\\n})", { filename: "acme-client.cjs" })(module_.exports, require, module_);
module.exports = module_.exports;
`,
        };
      });
    },
  };
}
