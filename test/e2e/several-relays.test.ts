/**
 * Several relays sharing one registry in a real PostgreSQL (initdb and
 * pg_ctl on a free port of a temporary directory): registrations through
 * any relay, a revoke on one reaching the sessions on another, and a store
 * that goes away and comes back.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { parse } from "smol-toml";
import { hostname } from "node:os";
import { request } from "undici";
import pg from "pg";
import { registerClient, startRelay, viaProxy, waitFor, DOMAIN, type Client, type Relay } from "../helpers/fixture.ts";
import { clientStatus, killTree, pidFrom, signal } from "../helpers/faults.ts";
import { startOrigin } from "../helpers/origin.ts";
import { petit, petitOk } from "../helpers/petit.ts";
import { freeRange } from "../helpers/ports.ts";
import { postgresSkipReason, startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { registrationHeaders, signingKeyLine } from "../helpers/signing-keys.ts";

const skip = postgresSkipReason();

/** Registers a fresh in-process key through `relay`'s API, as `petit register` would; returns the status and answer. */
async function registerKey(relay: Relay, name?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = JSON.stringify({ public_key: signingKeyLine(), ...(name ? { name } : {}) });
  const res = await request(`${relay.apiUrl}/v1/register`, {
    method: "POST", body, headers: registrationHeaders(relay.token, body), headersTimeout: 30_000, bodyTimeout: 30_000,
  });
  return { status: res.statusCode, json: JSON.parse(await res.body.text()) as Record<string, unknown> };
}

/** True when nothing listens on 127.0.0.1:`port`. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", () => resolve(true));
  });
}

/** `petit doctor --json` of a relay: its findings (it exits 1 when one fails). */
async function doctor(relay: Relay): Promise<Array<{ check: string; status: string; message: string; fix: string | null }>> {
  const result = await petit(relay.home, ["doctor", "--json"]);
  return JSON.parse(String(result.stdout));
}

/** The clients a relay lists (`petit server clients --json`). */
async function listed(relay: Relay): Promise<Array<{ id: number; port: number; name: string; relay: string | null }>> {
  return JSON.parse(await petitOk(relay.home, ["server", "clients", "--json"]));
}

describe("several relays sharing a PostgreSQL store", { skip }, () => {
  let postgres: TestPostgres;
  let store: string;
  const relays: Relay[] = [];
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  const clients: Client[] = [];

  before(async () => {
    postgres = await startPostgres();
    store = await postgres.createDatabase("petit");
    origin = await startOrigin("behind-relay-a");
    // One port range for all three: ports are allocated in the store, so no two relays can hand out the same one.
    const first = await freeRange(100);
    for (let i = 0; i < 3; i++) {
      relays.push(await startRelay({ rangeSize: 100, config: { store, port_range: `${first}-${first + 99}` } }));
    }
  });

  after(async () => {
    for (const client of clients) await client.stop();
    for (const relay of relays) await relay.stop();
    await origin?.close();
    await postgres?.stop();
  });

  test("every relay uses the enrollment token of the first one, so a client may register through any", () => {
    assert.equal(new Set(relays.map((r) => r.token)).size, 1);
  });

  test("50 registrations at once, spread over three relays, get 50 distinct IDs and ports, and every relay lists them all", async () => {
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => registerKey(relays[i % 3], `r${i}`)));
    const seconds = (Date.now() - started) / 1000;
    for (const answer of answers) assert.equal(answer.status, 201, JSON.stringify(answer.json));
    const ids = answers.map((a) => a.json.id as number);
    const ports = answers.map((a) => a.json.port as number);
    assert.equal(new Set(ids).size, 50, `IDs: ${ids.join(" ")}`);
    assert.equal(new Set(ports).size, 50, `ports: ${ports.join(" ")}`);
    console.log(`RELAYS {"registrations":50,"relays":3,"seconds":${seconds},"per_second":${(50 / seconds).toFixed(1)}}`);
    for (const relay of relays) {
      await waitFor(async () => (await listed(relay)).length >= 50, 10_000, "every relay to list the 50 clients");
      const rows = await listed(relay);
      assert.deepEqual(rows.map((r) => r.id).sort(), [...ids].sort());
    }
  });

  test("petit doctor on a relay checks the store: reachable, schema, clocks, the other relays; and the registry it holds", async () => {
    const report = await doctor(relays[0]);
    const store = report.find((r) => r.check === "store");
    assert.equal(store?.status, "ok", JSON.stringify(store));
    assert.match(String(store?.message), /schema version \d+; 3 relay\(s\) active/);
    const registry = report.find((r) => r.check === "registry");
    assert.equal(registry?.status, "ok", JSON.stringify(registry));
    assert.match(String(registry?.message), /5\d registered client\(s\)/);
  });

  test("a signed registration captured on its way to one relay is refused when replayed to another", async () => {
    const body = JSON.stringify({ public_key: signingKeyLine(), name: "replayed" });
    const headers = registrationHeaders(relays[0].token, body);
    const send = async (relay: Relay) => {
      const res = await request(`${relay.apiUrl}/v1/register`, { method: "POST", body, headers, headersTimeout: 30_000, bodyTimeout: 30_000 });
      return { status: res.statusCode, text: await res.body.text() };
    };
    assert.equal((await send(relays[0])).status, 201);
    const replay = await send(relays[1]);
    assert.equal(replay.status, 401);
    assert.match(replay.text, /already used \(replay, through another relay\)/);
  });

  test("a name taken through one relay is refused through another", async () => {
    const again = await registerKey(relays[1], "r0");
    assert.equal(again.status, 409);
    assert.match(String(again.json.error), /r0/);
  });

  test("relay B shows which relay holds a tunnel, an access change on relay C applies on relay A, and a revoke on B ends the session on A", async () => {
    const client = await registerClient(relays[0], { name: "revoked-elsewhere", target: `127.0.0.1:${origin.port}` });
    clients.push(client);
    await client.up();
    await waitFor(async () => (await viaProxy(relays[0], `${client.id}.${DOMAIN}`)).status === 200, 20_000, "the tunnel through relay A");
    const host = `${client.id}.${DOMAIN}`;
    // Every relay knows where the tunnel is.
    await waitFor(async () => (await listed(relays[1])).find((r) => r.id === client.id)?.relay === `${hostname()}:${relays[0].httpPort}`,
      10_000, "relay B to show the client on relay A");
    // An access change made on relay C applies on relay A: public, then private again.
    await petitOk(relays[2].home, ["server", "access", String(client.id), "--public"]);
    await waitFor(async () => (await viaProxy(relays[0], host, "/", { auth: false })).status === 200, 5_000, "relay A to serve it without a token");
    await petitOk(relays[2].home, ["server", "access", String(client.id), "--no-public"]);
    await waitFor(async () => (await viaProxy(relays[0], host, "/", { auth: false })).status === 407, 5_000, "relay A to ask for the token again");
    const started = Date.now();
    await petitOk(relays[1].home, ["server", "revoke", String(client.id)]);
    const answered = Date.now() - started;
    // The session on relay A is ended: nothing listens on the client's port any more.
    const afterAnswer = await waitFor(() => refused(client.port), 10_000, "the session on relay A to end");
    const ms = Date.now() - started;
    assert.equal((await viaProxy(relays[0], host)).status, 404);
    console.log(`RELAYS {"revoke_command_ms":${answered},"revoke_to_session_ended_on_other_relay_ms":${ms}}`);
    // Relay A acts on the store's notice while relay B is still ending its own sessions: by the time the command
    // answers, A is (nearly) done. The bound leaves room for a machine busy with other tests; the figure is reported.
    assert.ok(afterAnswer < 3_000, `the session on relay A ended ${afterAnswer} ms after the revoke command answered`);
  });

  test("while the store is down, tunnels keep serving, registrations get 503 naming the store, and nothing is lost when it is back", async () => {
    const client = await registerClient(relays[2], { name: "through-outage", target: `127.0.0.1:${origin.port}` });
    clients.push(client);
    await client.up();
    const host = `${client.id}.${DOMAIN}`;
    await waitFor(async () => (await viaProxy(relays[2], host)).status === 200, 20_000, "the tunnel through relay C");
    const before = (await listed(relays[0])).length;

    await postgres.pause();
    assert.equal((await viaProxy(relays[2], host)).status, 200, "an open tunnel serves without the store");
    const refused = await registerKey(relays[0], "during-outage");
    assert.equal(refused.status, 503);
    assert.match(String(refused.json.error), /store \(postgresql:\/\/petit@127\.0\.0\.1:\d+\/petit\) cannot be reached/);
    assert.equal((await listed(relays[0])).length, before, "a relay still lists the clients it read last");
    const storeCheck = (await doctor(relays[0])).find((r) => r.check === "store");
    assert.equal(storeCheck?.status, "fail");
    assert.match(String(storeCheck?.message), /does not answer/);

    await postgres.start();
    let answer = refused;
    await waitFor(async () => (answer = await registerKey(relays[0], "after-outage")).status !== 503, 20_000, "registrations to work again");
    assert.equal(answer.status, 201, JSON.stringify(answer.json));
    const db = new pg.Client({ connectionString: store });
    await db.connect();
    try {
      const { rows } = await db.query<{ n: string; ids: string; names: string }>(
        "SELECT count(*) AS n, count(DISTINCT id) AS ids, count(DISTINCT name) AS names FROM petit_clients",
      );
      assert.equal(Number(rows[0].n), before + 1, "exactly the one registration made after the outage was added");
      assert.equal(rows[0].ids, rows[0].n);
      assert.equal(rows[0].names, rows[0].n);
      const names = (await db.query<{ name: string }>("SELECT name FROM petit_clients WHERE name LIKE '%outage%'")).rows.map((r) => r.name);
      assert.deepEqual(names.sort(), ["after-outage", "through-outage"]);
    } finally {
      await db.end();
    }
    assert.equal((await viaProxy(relays[2], host)).status, 200);
  });

  test("a PostgreSQL restart loses no registration and the relays go on registering", async () => {
    // Counted in the store itself: a relay may not have read the last registration yet.
    const db = new pg.Client({ connectionString: store });
    await db.connect();
    const before = Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM petit_clients")).rows[0].n);
    await db.end();
    await postgres.restart();
    let answer = { status: 0, json: {} as Record<string, unknown> };
    await waitFor(async () => (answer = await registerKey(relays[1], "after-restart")).status !== 503, 20_000, "a registration after the restart");
    assert.equal(answer.status, 201, JSON.stringify(answer.json));
    for (const relay of relays) {
      await waitFor(async () => (await listed(relay)).length === before + 1, 10_000, "every relay to list the new client").catch(async (error) => {
        const counts = await Promise.all(relays.map(async (r) => (await listed(r)).length));
        throw new Error(`${error.message}: relays list ${counts.join(", ")} clients, expected ${before + 1}\n` +
          readFileSync(join(relay.home, "server/serverd.log"), "utf8").split("\n").slice(-8).join("\n"));
      });
    }
  });

  // Last: it kills relay A for good.
  test("when relay A dies (kill -9 of petit-serverd, its sshd and sessions) its client moves to another relay within 10 s", async () => {
    const client = await registerClient(relays[0], { name: "moves", target: `127.0.0.1:${origin.port}` });
    clients.push(client);
    const config = (parse(readFileSync(join(client.home, "config.toml"), "utf8")) as { client: { relays: string[] } }).client;
    assert.deepEqual(config.relays.sort(), [relays[1], relays[2]].map((r) => `127.0.0.1:${r.sshPort}`).sort(), "the answer listed the other relays");
    await client.up();
    const host = `${client.id}.${DOMAIN}`;
    await waitFor(async () => (await viaProxy(relays[0], host)).status === 200, 20_000, "the tunnel through relay A");

    // Registered through relay A: the fixture knows its token for A only.
    const bearer = { "proxy-authorization": `Bearer ${client.accessToken}` };
    const killed = Date.now();
    // petit-serverd first: alive, it would start a new sshd the moment its own died.
    signal(pidFrom(join(relays[0].home, "server/serverd.pid")), "SIGKILL");
    killTree(pidFrom(join(relays[0].home, "server/sshd.pid"))!);
    let moved: Relay | undefined;
    await waitFor(async () => {
      const endpoint = (await clientStatus(client))?.ssh_endpoint;
      moved = relays.slice(1).find((r) => endpoint === `127.0.0.1:${r.sshPort}`);
      return moved !== undefined && (await viaProxy(moved, host, "/", { headers: bearer })).status === 200;
    }, 30_000, "the client to serve through another relay").catch((error) => {
      throw new Error(`${error.message}\nclient log:\n${readFileSync(join(client.home, "client/clientd.log"), "utf8").split("\n").slice(-15).join("\n")}`);
    });
    const ms = Date.now() - killed;
    // The third relay holds nothing: its visitors are forwarded one hop to the relay the tunnel moved to, once the
    // store's presence says so (until then it forwards to dead relay A and answers 502 naming it).
    const third = relays.slice(1).find((r) => r !== moved)!;
    await waitFor(async () => (await viaProxy(third, host, "/", { headers: bearer })).status === 200, 15_000, "the third relay to forward to the new holder");
    const forwardedMs = Date.now() - killed;
    console.log(`RELAYS {"failover_ms":${ms},"failover_through_other_relay_ms":${forwardedMs}}`);
    assert.ok(ms < 15_000, `the tunnel took ${ms} ms to come back through another relay`);
    const status = JSON.parse(await petitOk(client.home, ["status", "--json"]));
    assert.equal(status.state, "connected");
    assert.equal(status.ssh_endpoint, `127.0.0.1:${moved!.sshPort}`);
    // The relay it moved to says it holds the tunnel.
    await waitFor(async () => (await listed(moved!)).find((r) => r.id === client.id)?.relay === `${hostname()}:${moved!.httpPort}`,
      10_000, "the new relay to show the client on itself");
  });
});
