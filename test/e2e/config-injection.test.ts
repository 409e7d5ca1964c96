/**
 * A setting cannot smuggle a directive into sshd_config: `petit server init`
 * refuses a --listen with a line break, and `petit server up` refuses a
 * hand-edited config.toml holding one, each naming the setting, and no
 * sshd_config with the injected line is ever written.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { killFromPidFile } from "../helpers/fixture.ts";
import { makeHome, petit, petitOk } from "../helpers/petit.ts";
import { freePort } from "../helpers/ports.ts";

const INJECTED = "127.0.0.1\nPermitOpen any";
const homes: { dir: string; remove(): void }[] = [];

after(async () => {
  for (const home of homes) {
    // Only if a relay started after all (before the fix, it did): stop it and what it started.
    await petit(home.dir, ["server", "down"]);
    killFromPidFile(join(home.dir, "server/serverd.pid"));
    killFromPidFile(join(home.dir, "server/sshd.pid"));
    home.remove();
  }
});

/** Asserts no sshd_config with the injected directive exists in `home`. */
function noInjectedConfig(home: string): void {
  const file = join(home, "server/sshd_config");
  if (existsSync(file)) assert.doesNotMatch(readFileSync(file, "utf8"), /^PermitOpen any$/m, "sshd_config holds the injected line");
}

test("petit server init refuses a --listen with a line break, naming server.listen, and writes nothing", async () => {
  const home = makeHome("inject-init");
  homes.push(home);
  const result = await petit(home.dir, ["server", "init", "--domain", "relay.example.com", "--listen", INJECTED]);
  assert.equal(result.exitCode, 1);
  assert.match(String(result.stderr), /Cannot use server\.listen "127\.0\.0\.1\\nPermitOpen any": expected an IP address or host name/);
  assert.doesNotMatch(String(result.stderr), /\n\s+at /, "no stack trace");
  assert.equal(existsSync(join(home.dir, "config.toml")), false, "config.toml was written");
  noInjectedConfig(home.dir);
});

test("petit server up refuses a hand-edited listen with a line break, naming server.listen, and starts nothing", async () => {
  const home = makeHome("inject-up");
  homes.push(home);
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
  await petitOk(home.dir, [
    "server", "init", "--domain", "relay.example.com", "--listen", "127.0.0.1", "--http-port", String(ports[0]),
    "--api-port", String(ports[1]), "--control-port", String(ports[2]), "--ssh-port", String(ports[3]),
  ]);
  const file = join(home.dir, "config.toml");
  const text = readFileSync(file, "utf8");
  assert.match(text, /^listen = "127\.0\.0\.1"$/m);
  // As a person editing the file would write it: a TOML escape that reads as a line break.
  writeFileSync(file, text.replace(/^listen = "127\.0\.0\.1"$/m, 'listen = "127.0.0.1\\nPermitOpen any"'));
  const result = await petit(home.dir, ["server", "up"]);
  assert.equal(result.exitCode, 1, `server up: ${result.stdout}\n${result.stderr}`);
  assert.match(String(result.stderr), /"server\.listen" is "127\.0\.0\.1\\nPermitOpen any", expected an IP address or host name/);
  assert.equal(existsSync(join(home.dir, "server/serverd.pid")), false, "a relay started");
  noInjectedConfig(home.dir);
});
