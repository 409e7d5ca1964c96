/**
 * The config part of the doctor: a broken or empty config becomes a fail
 * with the edit that fixes it.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { configErrorFix, diagnose, sectionsIn } from "../../../lib/doctor/diagnose.ts";

describe("doctor config check", () => {
  test("configErrorFix() turns each kind of config error into the edit that fixes it", () => {
    const file = "/h/config.toml";
    assert.equal(configErrorFix(`Config "${file}": unknown key "client.colour" (known keys: relay, id)`, file), `remove "client.colour" from "${file}"`);
    assert.equal(
      configErrorFix(`Config "${file}": "client.port" is "abc", expected a port number from 0 to 65535`, file),
      `set client.port in "${file}" to a port number from 0 to 65535`,
    );
    assert.match(configErrorFix(`Config "${file}": "client.relay" is missing`, file), /^add client.relay to/);
    assert.match(configErrorFix(`Config "${file}": unknown section "clinet" (expected [server] or [client])`, file), /rename or remove \[clinet\]/);
    assert.match(configErrorFix(`Cannot parse config "${file}": Invalid TOML`, file), /restore it from a backup/);
  });

  test("sectionsIn() tells which roles a config that cannot be read was meant for", () => {
    assert.deepEqual(sectionsIn("[server]\ndomain = 1\n\n[client]\n"), ["server", "client"]);
    assert.deepEqual(sectionsIn("[server]\n"), ["server"]);
    assert.deepEqual(sectionsIn("garbage"), ["client"]);
  });

  test("diagnose() reports a broken config as one fail per role and runs nothing else", async () => {
    const results = await diagnose({
      home: "/nonexistent", configFile: "/h/config.toml",
      configError: 'Config "/h/config.toml": unknown key "server.colour" (known keys: domain)', configText: "[server]\ncolour = 1\n",
    });
    assert.deepEqual(results, [{
      role: "server", check: "config", status: "fail",
      message: 'Config "/h/config.toml": unknown key "server.colour" (known keys: domain)',
      fix: 'remove "server.colour" from "/h/config.toml"',
    }]);
  });

  test("diagnose() fails when the config has neither [server] nor [client]", async () => {
    const [result] = await diagnose({ home: "/nonexistent", configFile: "/h/config.toml", config: {}, configText: "# empty\n" });
    assert.equal(result.status, "fail");
    assert.match(result.message, /has no \[server\] or \[client\] section/);
    assert.match(result.fix!, /petit server init --domain DOMAIN.*petit register URL --token TOKEN/);
    const [missing] = await diagnose({ home: "/nonexistent", configFile: "/h/config.toml", config: {} });
    assert.equal(missing.message, '"/h/config.toml" does not exist: nothing to check');
  });
});
