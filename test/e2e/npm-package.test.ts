/**
 * The npm package as a user gets it: `npm pack` on a copy of the checkout
 * (its prepack builds the bundle), then `npm install -g` of the tarball into
 * a scratch prefix, offline, and the `petit` it links runs.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execa } from "execa";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ROOT } from "../helpers/petit.ts";

interface PackedFile {
  path: string;
}

describe("the npm package", () => {
  let scratch: string;
  let tarball: string;
  let files: string[];

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "petit-npm-"));
    // A copy of what git tracks, without dist/: npm pack must build the bundle itself.
    const checkout = join(scratch, "checkout");
    const tracked = (await execa("git", ["ls-files", "-z"], { cwd: ROOT, stdin: "ignore" })).stdout.split("\0").filter(Boolean);
    for (const file of tracked) {
      mkdirSync(join(checkout, dirname(file)), { recursive: true });
      cpSync(join(ROOT, file), join(checkout, file));
    }
    // The build needs esbuild: the checkout's own dependencies, as after npm ci.
    symlinkSync(join(ROOT, "node_modules"), join(checkout, "node_modules"));
    const packed = await execa("npm", ["pack", "--json", "--pack-destination", scratch], { cwd: checkout, stdin: "ignore" });
    const [result] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as { filename: string; files: PackedFile[] }[];
    tarball = join(scratch, result.filename);
    files = result.files.map((file) => file.path).sort();
  });

  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test("npm pack ships the bundle and the docs only, and the package needs no dependency", () => {
    assert.ok(files.includes("dist/petit.mjs"), files.join(", "));
    for (const file of files) {
      assert.match(file, /^(package\.json|README\.md|LICENSE|dist\/petit\.mjs|docs\/.+)$/, `unexpected file in the package: ${file}`);
    }
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(manifest.dependencies ?? {}, {});
    assert.deepEqual(manifest.bin, { petit: "dist/petit.mjs" });
  });

  test("npm install -g of the tarball gives a working petit", async () => {
    const prefix = join(scratch, "prefix");
    // Offline: a package with no dependencies installs from its tarball alone.
    await execa("npm", ["install", "-g", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", tarball], { cwd: scratch, stdin: "ignore" });
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    const petit = join(prefix, "bin", "petit");
    assert.equal((await execa(petit, ["--version"], { stdin: "ignore" })).stdout.trim(), version);
    const status = await execa(petit, ["status", "--json"], {
      env: { PETIT_HOME: join(scratch, "home") }, reject: false, stdin: "ignore",
    });
    assert.equal(status.exitCode, 3, String(status.stderr));
    assert.equal(JSON.parse(String(status.stdout)).state, "unconfigured");
  });
});
