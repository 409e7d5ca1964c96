/**
 * The core relay end to end: real sshd, real ssh, real HTTP, the real CLI.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer as createNetServer } from "node:net";
import { Readable } from "node:stream";
import { parse } from "smol-toml";
import { request } from "undici";
import { startOrigin } from "../helpers/origin.ts";
import { makeHome, petit, petitOk } from "../helpers/petit.ts";
import { freePort } from "../helpers/ports.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { registrationHeaders, signingKeyLine } from "../helpers/signing-keys.ts";

describe("core relay", () => {
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client;

  before(async () => {
    origin = await startOrigin("core-origin");
    relay = await startRelay();
    client = await registerClient(relay, { name: "shop", target: `127.0.0.1:${origin.port}` });
    await client.up();
  });

  after(async () => {
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  test("the first client gets ID 1001 and the first port of the range", () => {
    assert.equal(client.id, 1001);
    assert.equal(client.port, relay.rangeFirst);
  });

  test("a GET through the proxy by ID reaches the origin", async () => {
    const res = await viaProxy(relay, `1001.${DOMAIN}:${relay.httpPort}`, "/hello?x=1");
    assert.equal(res.status, 200);
    const body = JSON.parse(res.text);
    assert.equal(body.name, "core-origin");
    assert.equal(body.url, "/hello?x=1");
    assert.equal(body.headers["x-forwarded-for"], "127.0.0.1");
    assert.equal(body.headers["x-forwarded-host"], `1001.${DOMAIN}:${relay.httpPort}`);
    assert.equal(body.headers["x-forwarded-proto"], "http");
  });

  test("a GET by name, in any case and with a trailing dot, reaches the same origin", async () => {
    for (const host of [`shop.${DOMAIN}`, `SHOP.Petit.Test.`, `shop.${DOMAIN}.:${relay.httpPort}`]) {
      const res = await viaProxy(relay, host);
      assert.equal(res.status, 200, host);
      assert.equal(JSON.parse(res.text).name, "core-origin");
    }
  });

  test("an unknown host gets 404 with a one-line reason", async () => {
    for (const host of [`nobody.${DOMAIN}`, `1999.${DOMAIN}`, "example.com", `a.b.${DOMAIN}`]) {
      const res = await viaProxy(relay, host);
      assert.equal(res.status, 404, host);
      assert.match(res.text, /^petit: no tunnel for host .*\n$/);
    }
  });

  test("a 50 MiB upload and a 50 MiB download stream through intact", async () => {
    const size = 50 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 13 + 1) & 0xff;
    const expected = createHash("sha256");
    for (let i = 0; i < 50; i++) expected.update(chunk);
    const upload = await request(`http://127.0.0.1:${relay.httpPort}/upload`, {
      method: "POST",
      headers: { host: `1001.${DOMAIN}`, "proxy-authorization": `Bearer ${client.accessToken}` },
      body: Readable.from((function* () { for (let i = 0; i < 50; i++) yield chunk; })()),
    });
    assert.equal(upload.statusCode, 200);
    assert.deepEqual(await upload.body.json(), { size, sha256: expected.digest("hex") });

    const download = await request(`http://127.0.0.1:${relay.httpPort}/download?size=${size}`, {
      headers: { host: `1001.${DOMAIN}`, "x-petit-token": client.accessToken },
    });
    assert.equal(download.statusCode, 200);
    const got = createHash("sha256");
    let received = 0;
    for await (const part of download.body) { got.update(part as Buffer); received += (part as Buffer).length; }
    const want = createHash("sha256");
    const pattern = Buffer.alloc(64 * 1024);
    for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 31 + 7) & 0xff;
    for (let sent = 0; sent < size; sent += pattern.length) want.update(pattern.subarray(0, Math.min(pattern.length, size - sent)));
    assert.equal(received, size);
    assert.equal(got.digest("hex"), want.digest("hex"));
  });

  test("petit down makes the host answer 502 and the client offline, and petit up brings 200 and online back", async () => {
    const online = async () => JSON.parse(await petitOk(relay.home, ["server", "clients", "--json"]))[0] as { online: boolean; online_since: string | null };
    await client.down();
    const down = await viaProxy(relay, `1001.${DOMAIN}`);
    assert.equal(down.status, 502);
    assert.equal(down.text, "petit: tunnel 1001 is not connected\n");
    const status = await petit(client.home, ["status", "--json"]);
    assert.equal(status.exitCode, 3);
    assert.equal(JSON.parse(String(status.stdout)).state, "stopped");
    const gone = await online();
    assert.equal(gone.online, false);
    assert.equal(gone.online_since, null);
    const upAt = Date.now();
    await client.up();
    assert.equal((await viaProxy(relay, `1001.${DOMAIN}`)).status, 200);
    const back = await online();
    assert.equal(back.online, true);
    assert.ok(Date.parse(back.online_since!) >= upAt - 1_000, `online since ${back.online_since}, up at ${new Date(upAt).toISOString()}`);
  });

  test("petit up and petit down are idempotent", async () => {
    const again = await petit(client.home, ["up"]);
    assert.equal(again.exitCode, 0);
    assert.match(String(again.stdout), /already up/);
    const quiet = await petit(client.home, ["up", "--quiet"]);
    assert.equal(quiet.exitCode, 0);
    assert.equal(String(quiet.stdout), "");
    await client.down();
    const second = await petit(client.home, ["down"]);
    assert.equal(second.exitCode, 0);
    assert.match(String(second.stdout), /not running/);
    await client.up();
  });

  test("killing the client's ssh restores the tunnel without anyone acting", async () => {
    const sshPid = Number(readFileSync(join(client.home, "client/ssh.pid"), "utf8"));
    process.kill(sshPid, "SIGKILL");
    await waitFor(async () => {
      const status = JSON.parse(String((await petit(client.home, ["status", "--json"])).stdout));
      return status.state === "connected" && status.ssh_pid !== sshPid && status.restarts >= 1;
    }, 15_000, "the tunnel to come back");
    assert.equal((await viaProxy(relay, `1001.${DOMAIN}`)).status, 200);
  });

  test("petit status shows the tunnel as connected with its ID, port and target", async () => {
    const status = JSON.parse(await petitOk(client.home, ["status", "--json"]));
    assert.equal(status.state, "connected");
    assert.equal(status.id, 1001);
    assert.equal(status.port, relay.rangeFirst);
    assert.equal(status.target, `127.0.0.1:${origin.port}`);
    assert.equal(status.public_host, `1001.${DOMAIN}`);
    assert.ok(status.uptime_seconds >= 0);
  });

  test("petit server clients lists the client as online", async () => {
    const rows = JSON.parse(await petitOk(relay.home, ["server", "clients", "--json"]));
    assert.equal(rows.length, 1);
    assert.equal(rows[0].id, 1001);
    assert.equal(rows[0].name, "shop");
    assert.equal(rows[0].online, true);
    assert.match(rows[0].fingerprint, /^SHA256:/);
  });

  test("registering again with the same key keeps the same ID and port", async () => {
    const out = JSON.parse(await petitOk(client.home, [
      "register", relay.apiUrl, "--token", relay.token, "--to", `127.0.0.1:${origin.port}`, "--json",
    ]));
    assert.equal(out.id, 1001);
    assert.equal(out.port, relay.rangeFirst);
    assert.equal(out.name, "shop");
  });

  test("a wrong enrollment token is refused and registers nothing", async () => {
    const before = readFileSync(join(relay.home, "server/registry.json"), "utf8");
    const res = await petit(client.home, ["register", relay.apiUrl, "--token", "wrong", "--to", "127.0.0.1:1"]);
    assert.equal(res.exitCode, 1);
    assert.match(String(res.stderr), /refused the registration \(401\): wrong enrollment token/);
    assert.equal(readFileSync(join(relay.home, "server/registry.json"), "utf8"), before);
  });

  test("20 concurrent registrations get 20 distinct IDs and ports, and survive server down and up", async () => {
    const keys = await Promise.all(Array.from({ length: 20 }, () => signingKeyLine()));
    const answers = await Promise.all(keys.map(async (key) => {
      const body = JSON.stringify({ public_key: key });
      const res = await request(`${relay.apiUrl}/v1/register`, {
        method: "POST", body, headers: registrationHeaders(relay.token, body),
      });
      assert.equal(res.statusCode, 201);
      return (await res.body.json()) as { id: number; port: number };
    }));
    assert.equal(new Set(answers.map((a) => a.id)).size, 20);
    assert.equal(new Set(answers.map((a) => a.port)).size, 20);
    assert.ok(answers.every((a) => a.id > 1001 && a.port !== client.port));
    const authorized = readFileSync(join(relay.home, "server/authorized_keys"), "utf8");
    for (const a of answers) assert.match(authorized, new RegExp(`permitlisten="127.0.0.1:${a.port}".* petit-${a.id}\n`));

    const listed = JSON.parse(await petitOk(relay.home, ["server", "clients", "--json"]));
    await petitOk(relay.home, ["server", "down"]);
    await petitOk(relay.home, ["server", "up"]);
    const relisted = JSON.parse(await petitOk(relay.home, ["server", "clients", "--json"]));
    const strip = (rows: { id: number; port: number; fingerprint: string }[]) => rows.map(({ id, port, fingerprint }) => ({ id, port, fingerprint }));
    assert.equal(relisted.length, 21);
    assert.deepEqual(strip(relisted), strip(listed));
    // The tunnel comes back by itself after the relay restart.
    await waitFor(async () => (await viaProxy(relay, `1001.${DOMAIN}`)).status === 200, 20_000, "the tunnel after a relay restart");
  });

  test("a connected tunnel whose service is down answers 502 saying so, not an opaque error", async () => {
    const orphan = await registerClient(relay, { name: "nobody-home", target: `127.0.0.1:${await freePort()}` });
    try {
      await orphan.up();
      const res = await viaProxy(relay, `nobody-home.${DOMAIN}`, "/");
      assert.equal(res.status, 502);
      assert.equal(res.text, `petit: tunnel ${orphan.id} is connected, but the service behind it closed the connection without answering (is it running? "petit doctor" on the client checks it)\n`);
    } finally {
      await orphan.stop();
    }
  });

  test("a client whose client.ssh_path names no program: petit up exits 4 at once, naming the program and the fix", async () => {
    const broken = await registerClient(relay, { name: "no-ssh", target: `127.0.0.1:${origin.port}` });
    try {
      const file = join(broken.home, "config.toml");
      writeFileSync(file, readFileSync(file, "utf8").replace(/^ssh_path = .*$/m, 'ssh_path = "/nonexistent/ssh"'));
      const started = Date.now();
      const up = await petit(broken.home, ["up"]);
      assert.equal(up.exitCode, 4, String(up.stderr));
      assert.ok(Date.now() - started < 10_000, `petit up took ${Date.now() - started} ms`);
      assert.match(String(up.stderr), /cannot run ssh "\/nonexistent\/ssh": ENOENT \(install OpenSSH's client, .* or set client\.ssh_path\)/);
      const status = JSON.parse(String((await petit(broken.home, ["status", "--json"])).stdout));
      assert.equal(status.state, "error");
    } finally {
      await broken.stop();
    }
  });

  test("petit status, when a silent program holds client.control_port, says so within seconds and without a stack trace", async () => {
    const squatted = await registerClient(relay, { name: "squatted", target: `127.0.0.1:${origin.port}` });
    // Up and down once, as after any earlier run: the control secret exists, so status asks the port.
    await squatted.up();
    await squatted.down();
    const port = (parse(readFileSync(join(squatted.home, "config.toml"), "utf8")).client as { control_port: number }).control_port;
    const silent = createNetServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
    try {
      const started = Date.now();
      const status = await petit(squatted.home, ["status"]);
      assert.equal(status.exitCode, 1);
      assert.ok(Date.now() - started < 8_000, `petit status took ${Date.now() - started} ms`);
      assert.equal(String(status.stderr), `Error: Nothing answered on 127.0.0.1:${port} within 3 s: the daemon is stuck (see its log), ` +
        `or another program holds that port (find it with: ss -tlnp 'sport = :${port}')`);
    } finally {
      silent.close();
      await squatted.stop();
    }
  });

  test("petit register --to PORT and --tunnel NAME=PORT mean services on the client's own machine", async () => {
    const home = makeHome("short-target");
    try {
      await petitOk(home.dir, [
        "register", relay.apiUrl, "--token", relay.token, "--to", String(origin.port), "--tunnel", `side=${origin.port}`,
        "--control-port", String(await freePort()),
      ]);
      const config = parse(readFileSync(join(home.dir, "config.toml"), "utf8")).client as { target: string; tunnel: { name: string; target: string }[] };
      assert.equal(config.target, `127.0.0.1:${origin.port}`);
      assert.deepEqual(config.tunnel.map((t) => [t.name, t.target]), [["side", `127.0.0.1:${origin.port}`]]);
      const bad = await petit(home.dir, ["register", relay.apiUrl, "--token", relay.token, "--to", "99999"]);
      assert.equal(bad.exitCode, 1);
      assert.match(String(bad.stderr), /--to must be HOST:PORT such as "127\.0\.0\.1:8080" \(or a port alone\), got "99999"/);
    } finally {
      await petit(home.dir, ["down"]);
      home.remove();
    }
  });
});

