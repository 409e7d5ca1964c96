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
import { request } from "undici";
import { DOMAIN, registerClient, startRelay, viaProxy, waitFor, type Relay } from "../helpers/fixture.ts";
import { registrationHeaders, signingKeyLine } from "../helpers/signing-keys.ts";

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

  test("token create, revoke and rotate go through petit-serverd while it runs, so it stays the one writer of the token files", async () => {
    const token = (await petitOk(relay.home, ["server", "token", "create", "--label", "via-daemon"])).trim();
    const id = token.split(".")[0];
    assert.match(await petitOk(relay.home, ["server", "token", "revoke", id]), new RegExp(`Revoked enrollment token ${id}`));
    const log = join(relay.home, "server", "serverd.log");
    // The rotation of the test before came through the control port too.
    await waitFor(() => {
      const text = readFileSync(log, "utf8");
      return text.includes(`enrollment token ${id} created from the control port`) &&
        text.includes(`enrollment token ${id} revoked from the control port`) &&
        text.includes("main enrollment token rotated from the control port");
    }, 10_000, "the daemon's log to show the token changes");
    const unknown = await petit(relay.home, ["server", "token", "revoke", "t999"]);
    assert.equal(unknown.exitCode, 1);
    assert.match(String(unknown.stderr), /No token "t999"/);
  });

  test("ten registrations at once with a one-use token create exactly one client", async () => {
    const token = (await petitOk(relay.home, ["server", "token", "create", "--uses", "1", "--label", "race"])).trim();
    const answers = await Promise.all(Array.from({ length: 10 }, async () => {
      const body = JSON.stringify({ public_key: signingKeyLine() });
      const res = await request(`${relay.apiUrl}/v1/register`, { method: "POST", headers: registrationHeaders(token, body), body });
      return { status: res.statusCode, text: await res.body.text() };
    }));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [201, 401, 401, 401, 401, 401, 401, 401, 401, 401], JSON.stringify(answers));
    for (const refused of answers.filter((a) => a.status === 401)) assert.match(refused.text, /used-up/);
    const listed = JSON.parse(await petitOk(relay.home, ["server", "token", "list", "--json"])) as { label: string; uses_left: number }[];
    assert.equal(listed.find((t) => t.label === "race")?.uses_left, 0);
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
