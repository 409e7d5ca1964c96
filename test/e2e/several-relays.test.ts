/**
 * Several relays sharing one registry in a real PostgreSQL (initdb and
 * pg_ctl on a free port of a temporary directory): registrations through
 * any relay, 20 clients spread over three relays reached through each, a
 * revoke on one reaching the sessions on another, a store that goes away
 * and comes back, a relay killed (its clients move, visitors through the
 * others see errors only meanwhile) and one that comes back.
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
import { describeClients, Fleet, wrongAnswers } from "../helpers/many-clients.ts";
import { freeRange } from "../helpers/ports.ts";
import { postgresSkipReason, startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { registrationHeaders, signingKeyLine } from "../helpers/signing-keys.ts";
import { startVisitor, visitErrors, type Visit } from "../helpers/visitors.ts";

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

/** The last `lines` lines of a relay's serverd.log, for assertion messages. */
function logTail(relay: Relay, lines = 10): string {
  try {
    return readFileSync(join(relay.home, "server/serverd.log"), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch (error) {
    return `(no log: ${(error as Error).message})`;
  }
}

/** What the store says about where tunnels are: presence rows and the relays' last stamps, for assertion messages. */
async function storeView(url: string): Promise<string> {
  const db = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await db.connect();
    const nodes = await db.query("SELECT name, address, round(extract(epoch FROM now() - seen)) AS age_s FROM petit_nodes ORDER BY name");
    const presence = await db.query("SELECT client_id, node, round(extract(epoch FROM now() - seen)) AS age_s FROM petit_presence ORDER BY client_id");
    return `nodes: ${JSON.stringify(nodes.rows)}\npresence: ${JSON.stringify(presence.rows)}`;
  } catch (error) {
    return `(store not readable: ${(error as Error).message})`;
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** Visits summed up by status, and the last few, for assertion messages. */
function summary(visits: Visit[]): string {
  const last = visits.slice(-3).map((v) => v.status).join(", ");
  return `${JSON.stringify(visitErrors(visits, visits[0]?.at ?? 0).errors)} in ${visits.length} visits, the last: ${last}`;
}

/**
 * Waits until every client of `fleet` is connected and answers with its own
 * identity through each of `through`; returns the ms from `since`, or throws
 * naming what was wrong.
 */
async function fleetServes(fleet: Fleet, through: Relay[], since: number, what: string): Promise<number> {
  let wrong: string[] = [];
  await waitFor(async () => {
    if (fleet.notConnected().length > 0) return false;
    wrong = (await Promise.all(through.map((relay) => wrongAnswers(relay, fleet.clients)))).flat();
    return wrong.length === 0;
  }, 30_000, what).catch((error) => {
    throw new Error(`${error.message}: ${wrong.slice(0, 5).join("; ")}\n${describeClients(fleet.notConnected())}`);
  });
  return Date.now() - since;
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
  let fleet: Fleet | undefined;

  before(async () => {
    postgres = await startPostgres();
    store = await postgres.createDatabase("petit");
    origin = await startOrigin("behind-relay-a");
    // One port range for all three: ports are allocated in the store, so no two relays can hand out the same one.
    const first = await freeRange(150);
    for (let i = 0; i < 3; i++) {
      // Behind a TLS balancer (the test, on 127.0.0.1, says X-Forwarded-Proto: https), as browser sign-in needs.
      relays.push(await startRelay({ rangeSize: 150, config: { store, port_range: `${first}-${first + 149}`, trusted_proxies: ["127.0.0.1/32"] } }));
    }
  });

  after(async () => {
    await fleet?.stop();
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

  test("20 clients spread over three relays each answer through every relay: directly on the one holding them, one hop from the others", async () => {
    fleet = await Fleet.create(relays, 20);
    const started = Date.now();
    fleet.start();
    await waitFor(() => fleet!.notConnected().length === 0, 60_000, "the 20 tunnels to connect").catch((error) => {
      throw new Error(`${error.message}\n${describeClients(fleet!.notConnected())}`);
    });
    const connectedMs = Date.now() - started;
    // Each relay learns where the others' tunnels are from the store's presence (noted on arrival, read every second).
    const wrong: Record<number, string[]> = {};
    for (const [i, relay] of relays.entries()) {
      await waitFor(async () => (wrong[i] = await wrongAnswers(relay, fleet!.clients)).length === 0, 20_000, `relay ${i} to reach all 20 clients`)
        .catch(async (error) => {
          throw new Error(`${error.message}: ${wrong[i].slice(0, 5).join("; ")}\n${await storeView(store)}\n${logTail(relay)}`);
        });
    }
    console.log(`RELAYS ${JSON.stringify({ clients: 20, relays: 3, connected_ms: connectedMs, reachable_through_every_relay_ms: Date.now() - started })}`);
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
    console.log(`RELAYS ${JSON.stringify({
      revoke_command_ms: answered, revoke_to_session_ended_on_other_relay_ms: ms, session_ended_after_command_answered_ms: afterAnswer,
    })}`);
    // Relay A acts on the store's notice while relay B is still ending its own sessions: by the time the command
    // answers, A is (nearly) done. The bound, 1 s, counted from the answer: on a busy machine most of the
    // command's own time is the CLI starting up, not the relays.
    assert.ok(afterAnswer < 1_000, `the session on relay A ended ${afterAnswer} ms after the revoke command answered`);
  });

  test("a browser signed in through relay B is signed in on A and C too; a sign-in link made on relay A works once, through any relay, and an altered one nowhere", async () => {
    const [a, b, c] = relays;
    const client = await registerClient(a, { name: "browser", target: `127.0.0.1:${origin.port}` });
    clients.push(client);
    await client.up();
    const host = `${client.id}.${DOMAIN}`;
    await waitFor(async () => (await viaProxy(a, host)).status === 200, 20_000, "the tunnel through relay A");
    const https = { "x-forwarded-proto": "https" };
    const signIn = async (relay: Relay, form: string) => {
      const res = await request(`http://127.0.0.1:${relay.httpPort}/.petit/sign-in`, {
        method: "POST", body: form,
        headers: { host, origin: `https://${host}`, "content-type": "application/x-www-form-urlencoded", ...https },
      });
      return { status: res.statusCode, cookie: String(res.headers["set-cookie"] ?? "").split(";")[0], text: await res.body.text() };
    };
    const page = async (relay: Relay, cookie: string) => {
      const res = await request(`http://127.0.0.1:${relay.httpPort}/`, { headers: { host, accept: "text/html", cookie, ...https } });
      await res.body.dump();
      return res.statusCode;
    };
    const typed = await signIn(b, `token=${encodeURIComponent(client.accessToken)}&next=%2F`);
    assert.equal(typed.status, 303, typed.text);
    assert.match(typed.cookie, /^__Host-petit=/);
    // Relay A holds the tunnel; C forwards to it, and both check the cookie B made.
    for (const relay of [a, b, c]) assert.equal(await page(relay, typed.cookie), 200, `relay ${relays.indexOf(relay)} takes relay B's cookie`);
    assert.equal(await page(c, ""), 401, "without the cookie: the sign-in page");

    const printed = JSON.parse(await petitOk(a.home, ["server", "access", String(client.id), "--link", "--json"])) as { sign_in_link: { url: string } };
    const code = new URL(printed.sign_in_link.url).searchParams.get("link")!;
    // A visitor who saw the link alters it (longer life, another nonce) or makes one up: refused, and nothing of it is
    // written to the store (the nonces table would otherwise be anyone's to fill).
    const [id, expires, nonce, mac] = code.split(".");
    const db = new pg.Client({ connectionString: store });
    await db.connect();
    try {
      for (const forged of [`${id}.${Number(expires) + 86_400_000}.${nonce}.${mac}`, `${id}.${expires}.${"A".repeat(22)}.${mac}`, `${id}.${expires}.${nonce}.${"B".repeat(43)}`]) {
        assert.equal((await signIn(b, `link=${encodeURIComponent(forged)}`)).status, 401, forged);
      }
      const { rowCount } = await db.query("SELECT 1 FROM petit_nonces WHERE nonce LIKE 'sign-in-link %'");
      assert.equal(rowCount, 0, "a refused link left a nonce in the store");
    } finally {
      await db.end();
    }
    const used = await signIn(c, `link=${encodeURIComponent(code)}`);
    assert.equal(used.status, 303, used.text);
    assert.equal(await page(b, used.cookie), 200);
    const again = await signIn(b, `link=${encodeURIComponent(code)}`);
    assert.equal(again.status, 401, "used once, through relay C: refused through relay B");
    assert.match(again.text, /used already/);
  });

  test("while the store is down, tunnels keep serving, registrations get 503 naming the store, and nothing is lost when it is back", async () => {
    const client = await registerClient(relays[2], { name: "through-outage", target: `127.0.0.1:${origin.port}` });
    clients.push(client);
    await client.up();
    const host = `${client.id}.${DOMAIN}`;
    await waitFor(async () => (await viaProxy(relays[2], host)).status === 200, 20_000, "the tunnel through relay C");
    const before = (await listed(relays[0])).length;

    const view = await storeView(store);
    await postgres.pause();
    let refused = { status: 0, json: {} as Record<string, unknown> };
    try {
      assert.equal((await viaProxy(relays[2], host)).status, 200, "an open tunnel serves without the store");
      // Routing goes on from the last presence read: each relay still reaches the fleet's clients, one hop where another holds them.
      for (const [i, relay] of fleet ? relays.entries() : []) {
        assert.deepEqual(await wrongAnswers(relay, fleet!.clients), [],
          `relay ${i} routes to every client while the store is down\nthe store before:\n${view}\n${logTail(relay)}`);
      }
      refused = await registerKey(relays[0], "during-outage");
      assert.equal(refused.status, 503);
      assert.match(String(refused.json.error), /store \(postgresql:\/\/petit@127\.0\.0\.1:\d+\/petit\) cannot be reached/);
      assert.equal((await listed(relays[0])).length, before, "a relay still lists the clients it read last");
      const storeCheck = (await doctor(relays[0])).find((r) => r.check === "store");
      assert.equal(storeCheck?.status, "fail");
      assert.match(String(storeCheck?.message), /does not answer/);
    } finally {
      await postgres.start();
    }
    let answer = refused;
    await waitFor(async () => (answer = await registerKey(relays[0], "after-outage")).status !== 503, 20_000, "registrations to work again");
    assert.equal(answer.status, 201, JSON.stringify(answer.json));
    const db = new pg.Client({ connectionString: store });
    await db.connect();
    try {
      // The fleet's clients have no name: names are counted among those that have one.
      const { rows } = await db.query<{ n: string; ids: string; named: string; names: string }>(
        "SELECT count(*) AS n, count(DISTINCT id) AS ids, count(name) AS named, count(DISTINCT name) AS names FROM petit_clients",
      );
      assert.equal(Number(rows[0].n), before + 1, "exactly the one registration made after the outage was added");
      assert.equal(rows[0].ids, rows[0].n);
      assert.equal(rows[0].names, rows[0].named);
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

  // Kills relay A; the next test starts it again.
  test("when relay A dies (kill -9 of petit-serverd, its sshd and sessions) its clients move to other relays within 10 s, " +
    "and visitors through the other relays get 502s only until then", async () => {
    const [a] = relays;
    const client = await registerClient(a, { name: "moves", target: `127.0.0.1:${origin.port}` });
    clients.push(client);
    const config = (parse(readFileSync(join(client.home, "config.toml"), "utf8")) as { client: { relays: string[] } }).client;
    assert.deepEqual(config.relays.sort(), [relays[1], relays[2]].map((r) => `127.0.0.1:${r.sshPort}`).sort(), "the answer listed the other relays");
    await client.up();
    const host = `${client.id}.${DOMAIN}`;
    await waitFor(async () => (await viaProxy(a, host)).status === 200, 20_000, "the tunnel through relay A");

    // Registered through relay A: the fixture knows its token for A only.
    const bearer = { "proxy-authorization": `Bearer ${client.accessToken}` };
    // Visitors through relays B and C from before the kill until well after the move: each is a forwarder to A, then
    // (once the client is on it) the holder, or a forwarder to the new holder.
    const visitors = relays.slice(1).map((relay) => ({ relay, visitor: startVisitor(relay, client, { maxRequests: 1_800, maxMs: 90_000 }) }));
    try {
      await waitFor(() => visitors.every(({ visitor }) => visitor.visits.some((v) => v.status === 200)), 15_000,
        "visitors through relays B and C to be forwarded to relay A").catch(async (error) => {
        throw new Error(`${error.message}\n${visitors.map(({ visitor }, i) => `through relay ${i + 1}: ${summary(visitor.visits)}`).join("\n")}\n` +
          `${await storeView(store)}\nrelay A:\n${logTail(a)}\nrelay B:\n${logTail(relays[1])}`);
      });
      await moveOffKilledRelay(client, bearer, visitors);
    } finally {
      await Promise.all(visitors.map(({ visitor }) => visitor.stop()));
    }
  });

  // Last: it kills relays B and C for good.
  test("relay A started again takes clients again: with B and C killed, the clients on them (2 petit clients, the fleet of 20) move to A within 10 s and A serves them", async () => {
    const [a, b, c] = relays;
    const moving = clients.filter((client) => client.name === "moves" || client.name === "through-outage");
    assert.equal(moving.length, 2);
    const bearer = (client: Client) => ({ "proxy-authorization": `Bearer ${client.accessToken}` });
    // Both know relay A: the one registered through it as its own, the other from the list its registration answer gave.
    for (const client of moving) {
      const config = (parse(readFileSync(join(client.home, "config.toml"), "utf8")) as { client: { ssh_port: number; relays: string[] } }).client;
      assert.ok(config.ssh_port === a.sshPort || config.relays.includes(`127.0.0.1:${a.sshPort}`), `${client.name} lists relay A`);
    }
    const restarted = Date.now();
    // Same home, same ports, as an operator would after the machine came back.
    await petitOk(a.home, ["server", "up"]);
    const upMs = Date.now() - restarted;
    // Back in the store's presence: relay A forwards to the relays that hold the tunnels now.
    for (const client of moving) {
      let last = 0;
      await waitFor(async () => (last = (await viaProxy(a, `${client.id}.${DOMAIN}`, "/", { headers: bearer(client) })).status) === 200,
        15_000, `relay A to forward ${client.name} to the relay holding it`).catch(async (error) => {
        throw new Error(`${error.message} (last answer ${last})\n${await storeView(store)}\nrelay A:\n${logTail(a)}`);
      });
    }

    const killed = Date.now();
    for (const relay of [b, c]) {
      signal(pidFrom(join(relay.home, "server/serverd.pid")), "SIGKILL");
      killTree(pidFrom(join(relay.home, "server/sshd.pid"))!);
    }
    const taken: Record<string, number> = {};
    // The fleet's clients, on B and C now, move to A too.
    const fleetTaken = fleet && fleetServes(fleet, [a], killed, "the fleet to serve through relay A");
    await Promise.all(moving.map(async (client) => {
      await waitFor(async () => (await clientStatus(client))?.ssh_endpoint === `127.0.0.1:${a.sshPort}` &&
        (await viaProxy(a, `${client.id}.${DOMAIN}`, "/", { headers: bearer(client) })).status === 200,
      30_000, `${client.name} to serve through relay A`).catch((error) => {
        throw new Error(`${error.message}\nclient log:\n${readFileSync(join(client.home, "client/clientd.log"), "utf8").split("\n").slice(-15).join("\n")}`);
      });
      taken[client.name] = Date.now() - killed;
    }));
    if (fleetTaken) taken.fleet = await fleetTaken;
    console.log(`RELAYS ${JSON.stringify({ relay_restart_up_ms: upMs, returned_relay_takes_clients_ms: taken })}`);
    for (const [name, ms] of Object.entries(taken)) assert.ok(ms < 15_000, `${name} took ${ms} ms to serve through relay A`);
    // Relay A says it holds both.
    await waitFor(async () => {
      const rows = await listed(a);
      return moving.every((client) => rows.find((r) => r.id === client.id)?.relay === `${hostname()}:${a.httpPort}`);
    }, 10_000, "relay A to show both clients on itself");
  });

  /** Kills relay A, waits for `client` to serve through another relay, and checks what `visitors` saw meanwhile. */
  async function moveOffKilledRelay(client: Client, bearer: Record<string, string>, visitors: Array<{ relay: Relay; visitor: ReturnType<typeof startVisitor> }>) {
    const host = `${client.id}.${DOMAIN}`;
    const killed = Date.now();
    // petit-serverd first: alive, it would start a new sshd the moment its own died.
    signal(pidFrom(join(relays[0].home, "server/serverd.pid")), "SIGKILL");
    killTree(pidFrom(join(relays[0].home, "server/sshd.pid"))!);
    // Meanwhile, the fleet's clients on relay A (one in three) move too, and every client answers through B and C.
    const fleetMoved = fleet && fleetServes(fleet, relays.slice(1), killed, "the fleet to serve through relays B and C");
    let moved: Relay | undefined;
    await waitFor(async () => {
      const endpoint = (await clientStatus(client))?.ssh_endpoint;
      moved = relays.slice(1).find((r) => endpoint === `127.0.0.1:${r.sshPort}`);
      return moved !== undefined && (await viaProxy(moved, host, "/", { headers: bearer })).status === 200;
    }, 30_000, "the client to serve through another relay").catch((error) => {
      throw new Error(`${error.message}\nclient log:\n${readFileSync(join(client.home, "client/clientd.log"), "utf8").split("\n").slice(-15).join("\n")}`);
    });
    const settled = Date.now();
    const ms = settled - killed;
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

    // Visitors: errors only while the client moves and presence follows it (every relay reads presence again each
    // second; the holder notes its sessions every 2 s), then 200s only. At least 40 visits (~2 s) are watched after that.
    const graceMs = 3_000;
    const late = (visitor: ReturnType<typeof startVisitor>) => visitor.visits.filter((v) => v.at > settled + graceMs);
    await waitFor(() => visitors.every(({ visitor }) => late(visitor).length >= 40), 20_000, "40 visits through each relay after the move");
    for (const { relay, visitor } of visitors) {
      const visits = (await visitor.stop()).filter((v) => v.at >= killed);
      const role = relay === moved ? "new holder" : "third relay";
      console.log(`RELAYS ${JSON.stringify({ visitors_via: role, settled_ms: ms, ...visitErrors(visits, killed), requests_after_settled_plus_3s: late(visitor).length })}`);
      // What the issue allows meanwhile: a 502 naming the relay that cannot be reached, never a hang, a reset or a 404.
      assert.deepEqual(Object.keys(visitErrors(visits, killed).errors).filter((status) => status !== "502"), [], `visitors through the ${role}`);
      const bad = late(visitor).filter((v) => v.status !== 200);
      assert.deepEqual(bad.map((v) => `${v.at - killed} ms: ${v.status}`), [],
        `visitors through the ${role} got errors more than ${graceMs} ms after the client served through relay ${moved!.sshPort} (${ms} ms after the kill)`);
    }
    if (fleetMoved) {
      const fleetMs = await fleetMoved;
      console.log(`RELAYS ${JSON.stringify({ fleet_clients_on_killed_relay: Math.ceil(fleet!.clients.length / 3), fleet_served_through_others_ms: fleetMs })}`);
      assert.ok(fleetMs < 15_000, `the fleet took ${fleetMs} ms to serve through relays B and C`);
    }
  }
});
