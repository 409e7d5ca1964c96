/**
 * renderSshdConfig(): the Match block holds every restriction the key
 * options cannot express, and real sshd accepts and applies the file.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { FORCED_COMMAND } from "../../../lib/constants.ts";
import { renderSshdConfig, type SshdSettings } from "../../../lib/ssh/sshd-config.ts";

const SSHD = "/usr/sbin/sshd";

/** Every directive sshd must apply to the tunnel user, as `sshd -T` prints it (lower-case names). */
const RESTRICTIONS: Record<string, string> = {
  allowtcpforwarding: "remote",
  allowstreamlocalforwarding: "no",
  permitopen: "none",
  gatewayports: "no",
  x11forwarding: "no",
  allowagentforwarding: "no",
  permittty: "no",
  permittunnel: "no",
  forcecommand: FORCED_COMMAND,
};

/** Returns the directives of the `Match User` block as lower-case name → value. */
function matchBlock(text: string, user: string): Record<string, string> {
  const lines = text.split("\n");
  const start = lines.indexOf(`Match User ${user}`);
  assert.notEqual(start, -1, `no "Match User ${user}" line`);
  const out: Record<string, string> = {};
  for (const line of lines.slice(start + 1)) {
    if (!line.trim() || line.startsWith("#")) continue;
    assert.ok(/^\s/.test(line) || !/^Match /i.test(line), "only one Match block is expected");
    const [name, ...value] = line.trim().split(/\s+/);
    out[name.toLowerCase()] = value.join(" ");
  }
  return out;
}

/** Runs `sshd -T` for a connection of `user` and returns its effective settings. */
function effective(config: string, user: string): Record<string, string> {
  const text = execFileSync(SSHD, ["-T", "-f", config, "-C", `user=${user},host=localhost,addr=127.0.0.1`], { encoding: "utf8" });
  return Object.fromEntries(text.trim().split("\n").map((l) => {
    const i = l.indexOf(" ");
    return [l.slice(0, i), l.slice(i + 1)];
  }));
}

describe("renderSshdConfig()", () => {
  let dir: string;
  let settings: SshdSettings;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "petit-sshd-config-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")], { stdio: "ignore" });
    writeFileSync(join(dir, "authorized_keys"), "", { mode: 0o600 });
    settings = {
      listen: "127.0.0.1", port: 20000 + Math.floor(Math.random() * 40000), hostKey: join(dir, "host_key"),
      authorizedKeys: join(dir, "authorized_keys"), pidFile: join(dir, "sshd.pid"),
      user: userInfo().username, strictModes: false,
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("renderSshdConfig() puts every restriction in the tunnel user's Match block", () => {
    const block = matchBlock(renderSshdConfig({ ...settings, user: "petit" }), "petit");
    for (const [name, value] of Object.entries(RESTRICTIONS)) assert.equal(block[name], value, name);
  });

  test("renderSshdConfig() forbids forwarding outside the Match block and ends with it", () => {
    const text = renderSshdConfig({ ...settings, user: "petit" });
    const global = text.slice(0, text.indexOf("Match User petit"));
    for (const line of ["AllowTcpForwarding no", "AllowStreamLocalForwarding no", "PermitTunnel no", "PermitTTY no"]) {
      assert.ok(global.split("\n").includes(line), line);
    }
    const rest = text.slice(text.indexOf("Match User petit")).split("\n").slice(1);
    assert.ok(rest.every((l) => l === "" || /^\s+\S/.test(l)), "every line after Match is indented into it");
  });

  test("renderSshdConfig() writes the given port, address, files and user", () => {
    const lines = renderSshdConfig(settings).split("\n");
    for (const line of [
      `Port ${settings.port}`, `ListenAddress ${settings.listen}`, `HostKey ${settings.hostKey}`,
      `PidFile ${settings.pidFile}`, `AuthorizedKeysFile ${settings.authorizedKeys}`,
      `AllowUsers ${settings.user}`, "StrictModes no", "PasswordAuthentication no", "UsePAM no",
    ]) assert.ok(lines.includes(line), line);
    assert.ok(renderSshdConfig({ ...settings, strictModes: true }).split("\n").includes("StrictModes yes"));
  });

  test("renderSshdConfig() listens on both families for \"::\", as the proxy does, and on exactly the address given otherwise", () => {
    const listens = (listen: string) => renderSshdConfig({ ...settings, listen }).split("\n").filter((l) => l.startsWith("ListenAddress "));
    assert.deepEqual(listens("::"), ["ListenAddress ::", "ListenAddress 0.0.0.0"]);
    assert.deepEqual(listens("0.0.0.0"), ["ListenAddress 0.0.0.0"]);
    assert.deepEqual(listens("127.0.0.1"), ["ListenAddress 127.0.0.1"]);
  });

  test("renderSshdConfig() permits root login only with forced commands, and only when root is the tunnel user", () => {
    assert.ok(renderSshdConfig({ ...settings, user: "root" }).includes("\nPermitRootLogin forced-commands-only\n"));
    assert.ok(renderSshdConfig({ ...settings, user: "petit" }).includes("\nPermitRootLogin no\n"));
  });

  test("renderSshdConfig() output passes sshd -t", () => {
    const file = join(dir, "sshd_config");
    writeFileSync(file, renderSshdConfig(settings));
    const result = spawnSync(SSHD, ["-t", "-f", file], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    // The check can fail: the same file with one bad line is refused.
    writeFileSync(file, renderSshdConfig(settings).replace("UsePAM no", "UsePAM maybe"));
    assert.notEqual(spawnSync(SSHD, ["-t", "-f", file]).status, 0);
  });

  test("renderSshdConfig() with keysViaCommand has root cat the key file instead of naming it", () => {
    const file = join(dir, "sshd_config_command");
    writeFileSync(file, renderSshdConfig({ ...settings, keysViaCommand: true }));
    const result = spawnSync(SSHD, ["-t", "-f", file], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    const applied = effective(file, settings.user);
    assert.equal(applied.authorizedkeysfile, "none");
    assert.equal(applied.authorizedkeyscommand, `/bin/cat ${settings.authorizedKeys}`);
    assert.equal(applied.authorizedkeyscommanduser, "root");
    writeFileSync(file, renderSshdConfig(settings));
    assert.equal(effective(file, settings.user).authorizedkeysfile, settings.authorizedKeys, "without it, the file itself");
  });

  test("renderSshdConfig() restrictions are what sshd -T applies to the tunnel user", () => {
    const file = join(dir, "sshd_config_effective");
    writeFileSync(file, renderSshdConfig(settings));
    const tunnel = effective(file, settings.user);
    for (const [name, value] of Object.entries(RESTRICTIONS)) assert.equal(tunnel[name], value, name);
    const other = effective(file, settings.user === "nobody" ? "daemon" : "nobody");
    assert.equal(other.allowtcpforwarding, "no");
    assert.equal(other.forcecommand, "none");
  });
});
