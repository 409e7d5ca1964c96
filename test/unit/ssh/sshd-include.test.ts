/**
 * includes(): whether an sshd_config reads petit's drop-in, by its Include lines.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { globToRegExp, includeLineFor, includes, topLevelIncludes } from "../../../lib/ssh/sshd-include.ts";

describe("includes()", () => {
  let dir: string;
  let dropIn: string;
  const main = () => join(dir, "sshd_config");

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "petit-include-"));
    mkdirSync(join(dir, "d"));
    dropIn = join(dir, "d/50-petit.conf");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("includes() sees a glob covering the drop-in, even before the file exists", () => {
    writeFileSync(main(), `Port 22\nInclude ${dir}/d/*.conf\n`);
    assert.equal(includes(main(), dropIn), true);
  });

  test("includes() is false without an Include, or with one for other files", () => {
    writeFileSync(main(), "Port 22\n# Include /nowhere/*.conf\n");
    assert.equal(includes(main(), dropIn), false);
    writeFileSync(main(), `Include ${dir}/d/*.cfg ${dir}/other.conf\n`);
    assert.equal(includes(main(), dropIn), false);
  });

  test("includes() ignores an Include inside a Match block, but not after Match all", () => {
    writeFileSync(main(), `Match User admin\n  Include ${dir}/d/*.conf\n`);
    assert.equal(includes(main(), dropIn), false);
    writeFileSync(main(), `Match User admin\n  X11Forwarding yes\nMatch all\ninclude=${dir}/d/[0-9]*.conf\n`);
    assert.equal(includes(main(), dropIn), true);
  });

  test("includes() follows nested Includes", () => {
    writeFileSync(join(dir, "middle.conf"), `Include "${dir}/d/*.conf"\n`);
    writeFileSync(main(), `Include ${dir}/middle.conf\n`);
    assert.equal(includes(main(), dropIn), true);
  });

  test("topLevelIncludes() makes relative patterns absolute under /etc/ssh", () => {
    assert.deepEqual(topLevelIncludes("Include sshd_config.d/*.conf\n"), ["/etc/ssh/sshd_config.d/*.conf"]);
  });

  test("globToRegExp() matches within one path part only", () => {
    assert.equal(globToRegExp("/a/*.conf").test("/a/50-petit.conf"), true);
    assert.equal(globToRegExp("/a/*.conf").test("/a/b/50-petit.conf"), false);
    assert.equal(globToRegExp("/a/?0-petit.conf").test("/a/50-petit.conf"), true);
    assert.equal(globToRegExp("/a/[!5]*.conf").test("/a/50-petit.conf"), false);
  });

  test("includeLineFor() names the folder's *.conf", () => {
    assert.equal(includeLineFor("/etc/ssh/sshd_config.d"), "Include /etc/ssh/sshd_config.d/*.conf");
  });
});
