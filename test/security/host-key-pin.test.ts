/**
 * Review finding 7: running `petit register` again must not re-pin the
 * relay's SSH host key silently. The relay's key is really replaced (as an
 * attacker answering the registration would present another one): the next
 * registration is refused with both fingerprints and changes nothing, until
 * --fingerprint names the new key.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startRelay, type Relay } from "../helpers/fixture.ts";
import { makeHome, petit, petitOk } from "../helpers/petit.ts";

/** `SHA256:…` of the public key file at `path`, as ssh-keygen prints it. */
function fingerprintOf(path: string): string {
  return execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", path], { encoding: "utf8" }).split(" ")[1];
}

describe("petit register keeps the pinned relay host key", () => {
  let relay: Relay;
  let client: { dir: string; remove(): void };

  before(async () => {
    relay = await startRelay();
    client = makeHome("pin");
  });
  after(async () => {
    await relay?.stop();
    client?.remove();
  });

  /** The client's files a refused registration must leave as they were. */
  const state = () => Object.fromEntries(["client/known_hosts", "config.toml", "client/id_ed25519", "client/id_ed25519.pub"]
    .map((file) => [file, readFileSync(join(client.dir, file), "utf8")]));
  const register = (...extra: string[]) =>
    petit(client.dir, ["register", relay.apiUrl, "--token", relay.token, "--to", "127.0.0.1:1", ...extra]);

  test("a relay whose host key changed is refused without --fingerprint, and with the old one; the new one re-pins", async () => {
    const hostKey = join(relay.home, "server/ssh_host_ed25519_key");
    const oldFingerprint = fingerprintOf(`${hostKey}.pub`);
    const first = await register();
    assert.equal(first.exitCode, 0, String(first.stderr));
    const again = await register();
    assert.equal(again.exitCode, 0, `the same key again is fine: ${again.stderr}`);
    const pinned = state();

    // The relay's key is replaced for real: stop it, make a new key pair, start it.
    await petitOk(relay.home, ["server", "down"]);
    rmSync(hostKey, { force: true });
    rmSync(`${hostKey}.pub`, { force: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "replaced", "-f", hostKey], { stdio: "ignore" });
    await petitOk(relay.home, ["server", "up"]);
    const newFingerprint = fingerprintOf(`${hostKey}.pub`);
    assert.notEqual(newFingerprint, oldFingerprint);

    const refused = await register();
    assert.equal(refused.exitCode, 1, `a changed host key was accepted: ${refused.stdout}`);
    const stderr = String(refused.stderr);
    assert.ok(stderr.includes(`pins ${oldFingerprint}, but ${relay.apiUrl} now presents ${newFingerprint}`), stderr);
    assert.ok(stderr.includes(`--fingerprint ${newFingerprint}`), stderr);
    assert.deepEqual(state(), pinned, "a refused registration changed the client's files");

    const withOld = await register("--fingerprint", oldFingerprint);
    assert.equal(withOld.exitCode, 1, `the old fingerprint vouched for the new key: ${withOld.stdout}`);
    assert.match(String(withOld.stderr), new RegExp(`is ${newFingerprint.replace(/[+/]/g, "\\$&")}, not ${oldFingerprint.replace(/[+/]/g, "\\$&")}`));
    assert.deepEqual(state(), pinned);

    const withNew = await register("--fingerprint", newFingerprint);
    assert.equal(withNew.exitCode, 0, String(withNew.stderr));
    const newBlob = readFileSync(`${hostKey}.pub`, "utf8").split(" ")[1];
    assert.equal(readFileSync(join(client.dir, "client/known_hosts"), "utf8"), `petit-relay ssh-ed25519 ${newBlob}\n`);
    // From now on the new key is the pinned one: no flag needed.
    const after = await register();
    assert.equal(after.exitCode, 0, String(after.stderr));
  });
});
