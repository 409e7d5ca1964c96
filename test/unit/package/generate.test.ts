/**
 * What the Debian package's build generates from petit's own code: the
 * packaged units, the man page and bash completion from the clipanion
 * definitions (the completion is run in bash to see what it offers).
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execa } from "execa";
import type { Definition } from "clipanion";
import { renderBashCompletion } from "../../../scripts/package/completion.ts";
import { commandDefinitions } from "../../../scripts/package/definitions.ts";
import { packagedUnit } from "../../../scripts/package/generate.ts";
import { renderManPage, roff } from "../../../scripts/package/man.ts";

/** The unit's `Key=value` lines for `key`. */
function values(unit: string, key: string): string[] {
  return unit.split("\n").filter((line) => line.startsWith(`${key}=`)).map((line) => line.slice(key.length + 1));
}

describe("the Debian package's generated files", () => {
  let definitions: Definition[];
  before(async () => {
    definitions = await commandDefinitions("9.9.9");
  });

  test("packagedUnit() runs /usr/bin/petit in the system installation and waits for /etc/petit/config.toml", () => {
    const server = packagedUnit("server");
    assert.deepEqual(values(server, "ExecStart"), ["/usr/bin/petit server up --foreground"]);
    assert.deepEqual(values(server, "Environment"), ["PETIT_HOME=/var/lib/petit"]);
    assert.deepEqual(values(server, "ConditionPathExists"), ["/etc/petit/config.toml"]);
    assert.deepEqual(values(server, "KillMode"), ["process"]);
    assert.deepEqual(values(server, "Documentation"), ["man:petit(1)"]);
    const client = packagedUnit("client");
    assert.deepEqual(values(client, "ExecStart"), ["/usr/bin/petit up --foreground"]);
    assert.deepEqual(values(client, "ReadWritePaths"), ["/var/lib/petit"]);
    assert.deepEqual(values(client, "ProtectHome"), ["yes"]);
  });

  test("commandDefinitions() finds every command of the CLI, subcommands included", () => {
    const paths = definitions.map((definition) => definition.path);
    for (const path of ["petit register", "petit up", "petit server init", "petit server token create", "petit service install"]) {
      assert.ok(paths.includes(path), path);
    }
  });

  test("the man page has a subsection per command with its options", () => {
    const page = renderManPage(definitions, "9.9.9", "2026-01-02");
    assert.match(page, /^\.TH PETIT 1 "2026-01-02" "petit 9\.9\.9"/);
    for (const definition of definitions) assert.ok(page.includes(`.SS ${roff(definition.usage)}`), definition.path);
    assert.ok(page.includes(`.B ${roff("--domain DOMAIN")}`));
    assert.match(page, /\/etc\/petit\/config\.toml/);
  });

  test("roff() escapes dashes and backslashes and keeps a leading dot from being a request", () => {
    assert.equal(roff("--help"), "\\-\\-help");
    assert.equal(roff("a\\b"), "a\\eb");
    assert.equal(roff(".petit"), "\\&.petit");
    assert.equal(roff("run `petit up`"), "run \\fBpetit up\\fR");
  });

  /** What the completion offers for the words typed so far (the last one being completed). */
  async function complete(words: string[]): Promise<string[]> {
    const script = `${renderBashCompletion(definitions)}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _petit; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const { stdout } = await execa("bash", ["-c", script]);
    return stdout.split("\n").filter(Boolean).sort();
  }

  test("bash completion offers the commands, then subcommands, then a command's options", async () => {
    assert.ok((await complete(["petit", ""])).includes("register"));
    assert.deepEqual(await complete(["petit", "server", "to"]), ["token"]);
    assert.deepEqual(await complete(["petit", "server", "token", "c"]), ["create"]);
    assert.deepEqual(await complete(["petit", "server", "init", "--dom"]), ["--domain"]);
    assert.deepEqual(await complete(["petit", "--ver"]), ["--version"]);
  });
});
