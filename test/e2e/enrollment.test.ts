/**
 * Enrollment and revocation: extra tokens with expiry and use counts,
 * host-key fingerprint checks, and revoke ending a live tunnel at once.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:net";
import { startOrigin } from "../helpers/origin.ts";
import { makeHome, petit, petitOk } from "../helpers/petit.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, waitFor, type Relay } from "../helpers/fixture.ts";

describe("enrollment and revocation", () => {
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  const homes: { remove(): void }[] = [];

  before(async () => {
    origin = await startOrigin("enroll-origin");
    relay = await startRelay();
  });
  after(async () => {
    await relay?.stop();
    await origin?.close();
    for (const home of homes) home.remove();
  });

  /** Registers a fresh client home with `token`; returns the CLI result. */
  async function registerWith(token: string, extra: string[] = []) {
    const home = makeHome("enroll");
    homes.push(home);
    return petit(home.dir, ["register", relay.apiUrl, "--token", token, "--to", "127.0.0.1:1", ...extra]);
  }

  test("a token limited to one use registers one client and refuses the second", async () => {
    const token = (await petitOk(relay.home, ["server", "token", "create", "--uses", "1", "--label", "one"])).trim();
    assert.match(token, /^t\d+\.[0-9a-f]{48}$/);
    assert.equal((await registerWith(token)).exitCode, 0);
    const second = await registerWith(token);
    assert.equal(second.exitCode, 1);
    assert.match(String(second.stderr), /unknown, expired, used-up or revoked enrollment token/);
    const listed = JSON.parse(await petitOk(relay.home, ["server", "token", "list", "--json"]));
    const entry = listed.find((t: { label: string }) => t.label === "one");
    assert.equal(entry.uses_left, 0);
    assert.equal(entry.valid, false);
    assert.equal(JSON.stringify(listed).includes(token.split(".")[1]), false, "the listing never shows a secret");
  });

  test("a revoked token is refused", async () => {
    const token = (await petitOk(relay.home, ["server", "token", "create", "--expires", "1h"])).trim();
    await petitOk(relay.home, ["server", "token", "revoke", token.split(".")[0]]);
    const result = await registerWith(token);
    assert.equal(result.exitCode, 1);
    assert.match(String(result.stderr), /revoked enrollment token/);
  });

  test("rotating the main token refuses the old one and accepts the new one", async () => {
    const old = relay.token;
    const fresh = (await petitOk(relay.home, ["server", "token", "rotate"])).trim();
    assert.notEqual(fresh, old);
    assert.equal((await registerWith(old)).exitCode, 1);
    assert.equal((await registerWith(fresh)).exitCode, 0);
    relay.token = fresh;
  });

  test("petit register refuses a relay whose host key does not match --fingerprint, and saves nothing", async () => {
    const home = makeHome("fp");
    homes.push(home);
    const wrong = "SHA256:" + "A".repeat(43);
    const result = await petit(home.dir, ["register", relay.apiUrl, "--token", relay.token, "--to", "127.0.0.1:1", "--fingerprint", wrong]);
    assert.equal(result.exitCode, 1);
    assert.match(String(result.stderr), /not SHA256:A+ as given with --fingerprint/);
    assert.throws(() => readFileSync(join(home.dir, "config.toml")));
    const right = String((await import("node:child_process")).execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(relay.home, "server/ssh_host_ed25519_key.pub")])).split(" ")[1];
    const ok = await petit(home.dir, ["register", relay.apiUrl, "--token", relay.token, "--to", "127.0.0.1:1", "--fingerprint", right]);
    assert.equal(ok.exitCode, 0, String(ok.stderr));
  });

  test("petit server revoke removes the key and the tunnel port stops answering within a second", async () => {
    const client = await registerClient(relay, { name: "revokee", target: `127.0.0.1:${origin.port}` });
    try {
      await client.up();
      assert.equal((await viaProxy(relay, `revokee.${DOMAIN}`)).status, 200);
      const out = JSON.parse(await petitOk(relay.home, ["server", "revoke", "revokee", "--json"]));
      assert.equal(out.id, client.id);
      assert.equal(out.sessions_ended, 1);
      // The port must stop answering within a second of the revoke (CLI start-up time is not counted).
      const gone = await waitFor(() => portRefuses(client.port), 1_000, "the tunnel port to stop answering");
      assert.ok(gone <= 1_000);
      assert.doesNotMatch(readFileSync(join(relay.home, "server/authorized_keys"), "utf8"), new RegExp(`petit-${client.id}\\n`));
      assert.equal((await viaProxy(relay, `revokee.${DOMAIN}`)).status, 404);
      // The client is told, and stops hammering: petit status reports the refusal.
      await waitFor(async () => {
        const status = JSON.parse(String((await petit(client.home, ["status", "--json"])).stdout));
        return status.state === "error" && /refused this client's key/.test(status.last_error);
      }, 15_000, "the client to report the revoked key");
      const up = await petit(client.home, ["up"]);
      assert.equal(up.exitCode, 4);
    } finally {
      await client.stop();
    }
  });

  test("revoking an unknown client is a clear error", async () => {
    const result = await petit(relay.home, ["server", "revoke", "nosuch"]);
    assert.equal(result.exitCode, 1);
    assert.match(String(result.stderr), /No client "nosuch" is registered|no client "nosuch" is registered/);
  });
});

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => { socket.destroy(); resolve(false); });
    socket.once("error", () => resolve(true));
  });
}
