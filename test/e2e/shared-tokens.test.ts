/**
 * Issue 16: "token changes made on any relay take effect on all within 1 s".
 * Extra enrollment tokens of relays sharing a real PostgreSQL live in the
 * store: one made on relay A enrols through relay B, its uses are counted
 * across relays (a one-use token raced through two relays enrols one client),
 * a revoke or a rotation on one relay holds on the other within a second.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import { startRelay, waitFor, type Relay } from "../helpers/fixture.ts";
import { petit, petitOk } from "../helpers/petit.ts";
import { freeRange } from "../helpers/ports.ts";
import { postgresSkipReason, startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { registrationHeaders, signingKeyLine } from "../helpers/signing-keys.ts";

const skip = postgresSkipReason();

/** Registers a fresh in-process key through `relay` with `token`; returns the HTTP status and the error, if any. */
async function registerWith(relay: Relay, token: string): Promise<{ status: number; error?: string }> {
  const body = JSON.stringify({ public_key: signingKeyLine() });
  const res = await request(`${relay.apiUrl}/v1/register`, {
    method: "POST", body, headers: registrationHeaders(token, body), headersTimeout: 30_000, bodyTimeout: 30_000,
  });
  return { status: res.statusCode, error: (JSON.parse(await res.body.text()) as { error?: string }).error };
}

describe("enrollment tokens shared by relays with a store", { skip }, () => {
  let postgres: TestPostgres;
  const relays: Relay[] = [];

  before(async () => {
    postgres = await startPostgres();
    const store = await postgres.createDatabase("petit");
    const first = await freeRange(40);
    for (let i = 0; i < 2; i++) relays.push(await startRelay({ rangeSize: 40, config: { store, port_range: `${first}-${first + 39}` } }));
  });

  after(async () => {
    for (const relay of relays) await relay.stop();
    await postgres?.stop();
  });

  const [a, b] = [0, 1];
  const create = async (on: number, ...flags: string[]) => (await petitOk(relays[on].home, ["server", "token", "create", ...flags])).trim();

  test("a one-use token made on relay A enrols once through relay B, then is used up on both", async () => {
    const token = await create(a, "--uses", "1", "--label", "made on A");
    const started = Date.now();
    const first = await waitFor(async () => (await registerWith(relays[b], token)).status === 201, 5_000, "relay B to take A's token");
    console.log(`TOKENS {"created_on_a_to_enrolled_on_b_ms":${Date.now() - started}}`);
    assert.ok(first < 3_000, `relay B took ${first} ms to know the token`);
    for (const relay of relays) {
      const again = await registerWith(relay, token);
      assert.equal(again.status, 401);
      assert.match(String(again.error), /unknown, expired, used-up or revoked enrollment token/);
    }
    const listed = JSON.parse(await petitOk(relays[b].home, ["server", "token", "list", "--json"])) as Array<{ id: string; label: string; uses_left: number | null; valid: boolean }>;
    const row = listed.find((t) => t.label === "made on A");
    assert.deepEqual({ uses_left: row?.uses_left, valid: row?.valid }, { uses_left: 0, valid: false });
  });

  test("a one-use token raced through both relays at once enrols exactly one client", async () => {
    for (let round = 0; round < 3; round++) {
      const token = await create(b, "--uses", "1");
      await waitFor(async () => JSON.parse(await petitOk(relays[a].home, ["server", "token", "list", "--json"]))
        .some((t: { id: string }) => token.startsWith(`${t.id}.`)), 5_000, "relay A to list B's token");
      const answers = await Promise.all([registerWith(relays[a], token), registerWith(relays[b], token)]);
      assert.deepEqual(answers.map((x) => x.status).sort(), [201, 401], JSON.stringify(answers));
    }
  });

  test("a token revoked on relay B is refused by relay A within a second", async () => {
    const token = await create(a);
    assert.equal((await registerWith(relays[a], token)).status, 201);
    const id = token.split(".")[0];
    await petitOk(relays[b].home, ["server", "token", "revoke", id]);
    const revoked = Date.now();
    await waitFor(async () => (await registerWith(relays[a], token)).status === 401, 5_000, "relay A to refuse the revoked token");
    const ms = Date.now() - revoked;
    console.log(`TOKENS {"revoked_on_b_to_refused_on_a_ms":${ms}}`);
    assert.ok(ms < 2_000, `relay A still took the revoked token ${ms} ms later`);
  });

  test("the main token rotated on relay B is the one relay A prints and takes within a second; the old one is refused", async () => {
    const old = relays[a].token;
    const rotated = (await petitOk(relays[b].home, ["server", "token", "rotate"])).trim();
    assert.notEqual(rotated, old);
    const started = Date.now();
    await waitFor(async () => (await registerWith(relays[a], rotated)).status === 201, 5_000, "relay A to take the rotated token");
    const ms = Date.now() - started;
    console.log(`TOKENS {"rotated_on_b_to_taken_on_a_ms":${ms}}`);
    assert.ok(ms < 2_000, `relay A took the rotated token ${ms} ms after the rotation`);
    assert.equal((await petitOk(relays[a].home, ["server", "token"])).trim(), rotated);
    assert.equal((await registerWith(relays[a], old)).status, 401);
  });

  // Last: it stops relay B.
  test("while a relay is down, its token commands refuse to change the files that only mirror the store", async () => {
    await petitOk(relays[b].home, ["server", "down"]);
    for (const args of [["revoke", "t1"], ["rotate"], ["create"]]) {
      const result = await petit(relays[b].home, ["server", "token", ...args]);
      assert.equal(result.exitCode, 1, `petit server token ${args.join(" ")}: ${result.stdout}`);
      assert.match(String(result.stderr), /while this relay is down: its enrollment tokens are shared through the store/);
    }
  });
});
