/**
 * Bad input changes nothing: against a real relay, every malformed body,
 * injected key, bad name and broken proof is refused with a clear 4xx,
 * registry.json and authorized_keys stay the same byte for byte, and the
 * relay goes on registering valid clients. A bad config file stops
 * `petit server up` before anything starts.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { request } from "undici";
import { makeProof } from "../../lib/proof.ts";
import { killFromPidFile, startRelay, type Relay } from "../helpers/fixture.ts";
import { keyLine, sshBlob } from "../helpers/fuzz.ts";
import { registrationHeaders } from "../helpers/signing-keys.ts";
import { makeHome, petit, petitOk } from "../helpers/petit.ts";
import { freePort } from "../helpers/ports.ts";

/** What the API answered: status and the "error" of its JSON (or the raw text). */
interface Answer {
  status: number;
  error: string;
  json: Record<string, unknown>;
}

/** Tells whether process `pid` runs (and is not a zombie). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("registration input", () => {
  let relay: Relay;
  let pid: number;
  const file = (name: string) => readFileSync(join(relay.home, "server", name));

  /** POSTs `body` (objects as JSON) to /v1/register with a valid proof, or `proof` (null: no proof header). */
  async function post(body: unknown, proof?: string | null): Promise<Answer> {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const res = await request(`${relay.apiUrl}/v1/register`, {
      method: "POST", body: text, headersTimeout: 10_000, bodyTimeout: 10_000,
      headers: registrationHeaders(relay.token, text, proof),
    });
    const raw = await res.body.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(raw);
    } catch {
      // not JSON: the raw text is the error
    }
    return { status: res.statusCode, error: String(json.error ?? raw), json };
  }

  /** Asserts petit-serverd is the same process and still registers a valid client. */
  async function stillServes(): Promise<void> {
    assert.equal(Number(file("serverd.pid")), pid, "petit-serverd was replaced");
    assert.ok(running(pid), `petit-serverd ${pid} died:\n${file("serverd.log").toString().slice(-2000)}`);
    const ok = await post({ public_key: keyLine() });
    assert.equal(ok.status, 201, `a valid registration afterwards: ${ok.error}`);
  }

  /** Runs `attempt`; asserts its status and message, that neither file changed, and that the relay still serves. */
  async function refused(attempt: () => Promise<Answer>, status: number, message: RegExp): Promise<void> {
    const [registry, keys] = [file("registry.json"), file("authorized_keys")];
    const answer = await attempt();
    assert.equal(answer.status, status, answer.error);
    assert.match(answer.error, message);
    assert.ok(file("registry.json").equals(registry), "registry.json changed");
    assert.ok(file("authorized_keys").equals(keys), "authorized_keys changed");
    await stillServes();
  }

  before(async () => {
    relay = await startRelay({ rangeSize: 100, config: { api_failures_per_minute: 0 } });
    pid = Number(file("serverd.pid"));
    assert.equal((await post({ public_key: keyLine(), name: "taken" })).status, 201);
  });
  after(async () => {
    await relay?.stop();
  });

  test("malformed JSON is refused with 400 and changes nothing", async () => {
    await refused(() => post(`{"public_key": "${keyLine()}`), 400, /^body must be JSON/);
  });

  for (const [what, body] of [["a JSON array", "[]"], ["a JSON number", "42"], ["JSON null", "null"]]) {
    test(`${what} as the body is refused with 400 and changes nothing`, async () => {
      await refused(() => post(body), 400, /^body must be a JSON object$/);
    });
  }

  test("a 1 MB body is refused with 413 and changes nothing", async () => {
    await refused(() => post(`{"public_key":"${"A".repeat(1_000_000)}"}`), 413, /larger than 65536 bytes/);
  });

  test("a 1 MB chunked body (no Content-Length) is refused with 413, not a reset, and changes nothing", async () => {
    await refused(async () => {
      // 16 KiB at a time, as a client streaming its body would send it.
      async function* chunks() {
        yield '{"public_key":"';
        for (let i = 0; i < 64; i++) yield "A".repeat(16 * 1024);
        yield '"}';
      }
      const res = await request(`${relay.apiUrl}/v1/register`, {
        method: "POST", body: Readable.from(chunks()), headersTimeout: 10_000, bodyTimeout: 10_000,
        headers: { "content-type": "application/json", "x-petit-proof": makeProof(relay.token, "x") },
      });
      const json = (await res.body.json()) as Record<string, unknown>;
      return { status: res.statusCode, error: String(json.error), json };
    }, 413, /larger than 65536 bytes/);
  });

  test("a chunked body that never ends gets its 413, and the connection is cut about 2 s later", async () => {
    const socket = connect({ host: "127.0.0.1", port: relay.apiPort });
    let answer = "";
    socket.setEncoding("utf8").on("data", (text: string) => (answer += text));
    const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
    socket.on("error", () => undefined);
    socket.write(`POST /v1/register HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nx-petit-proof: x\r\n\r\n`);
    // 4 KiB every 20 ms, for at most 15 s: a sender that would go on for ever.
    const chunk = `1000\r\n${"A".repeat(4096)}\r\n`;
    const started = Date.now();
    let answeredAt = 0;
    while (!socket.destroyed && Date.now() - started < 15_000) {
      if (!answeredAt && answer.includes("\r\n\r\n")) answeredAt = Date.now();
      socket.write(chunk);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const closedAt = await closed;
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /larger than 65536 bytes/);
    assert.ok(answeredAt > 0, "the 413 came before the connection was cut");
    const lingered = closedAt - answeredAt;
    assert.ok(lingered >= 1_000 && lingered < 5_000, `cut ${lingered} ms after the 413`);
    await stillServes();
  });

  test("a public_key of 5 is refused with 400 and changes nothing", async () => {
    await refused(() => post({ public_key: 5 }), 400, /^public_key must be a string$/);
  });

  test("a name of {} is refused with 400 and changes nothing", async () => {
    await refused(() => post({ public_key: keyLine(), name: {} }), 400, /^name must be a string$/);
  });

  test("an unknown field is refused with 400, naming it, and changes nothing", async () => {
    await refused(() => post({ public_key: keyLine(), admin: true }), 400, /unknown field "admin"/);
  });

  const good = keyLine();
  const [type, blob] = good.split(" ");
  const dsa = sshBlob("ssh-dss", Buffer.alloc(129, 1), Buffer.alloc(21, 2), Buffer.alloc(128, 3), Buffer.alloc(128, 4));
  const keyCases: [string, string, RegExp][] = [
    ['options before it (command="x")', `command="x" ${good}`, /type "command="x"".*options before the key are not accepted/],
    ['options before it (restrict,permitlisten="0.0.0.0:1")', `restrict,permitlisten="0.0.0.0:1" ${good}`, /options before the key are not accepted/],
    ["a newline and a second key line", `${good}\n${keyLine()}`, /single line without control characters/],
    ["a CR", `${good}\r`, /single line without control characters/],
    ["a NUL", `${type}\0 ${blob}`, /single line without control characters/],
    ["a second key on the same line", `${good} ${keyLine()}`, /exactly one key/],
    ["the type ssh-dss", `ssh-dss ${dsa.toString("base64")}`, /type "ssh-dss"/],
    ["an ed25519 blob declared as ssh-rsa", `ssh-rsa ${blob}`, /does not hold a "ssh-rsa" key/],
    ["truncated key data", `ssh-ed25519 ${Buffer.from(blob, "base64").subarray(0, 45).toString("base64")}`, /does not hold a "ssh-ed25519" key/],
    ["a 20 KB comment", `${good} ${"c".repeat(20_000)}`, /too long/],
  ];
  for (const [what, text, message] of keyCases) {
    test(`a public key with ${what} is refused with 400 and changes nothing`, async () => {
      await refused(() => post({ public_key: text }), 400, message);
    });
  }

  test("an uppercase name is accepted and stored lower-cased", async () => {
    const answer = await post({ public_key: keyLine(), name: "MixedCase" });
    assert.equal(answer.status, 201, answer.error);
    assert.equal(answer.json.name, "mixedcase");
    assert.match(file("registry.json").toString(), /"name": "mixedcase"/);
    assert.doesNotMatch(file("registry.json").toString(), /MixedCase/);
  });

  const nameCases: [string, string][] = [
    ["two dots", ".."], ["a leading hyphen", "-x"], ["64 characters", "a".repeat(64)], ["only digits", "12345"],
    ["a non-ASCII letter", "bücher"], ["a Kelvin sign (it lower-cases to k)", "\u212Aelvin"],
  ];
  for (const [what, name] of nameCases) {
    test(`a name with ${what} is refused with 400 and changes nothing`, async () => {
      await refused(() => post({ public_key: keyLine(), name }), 400, /is not a valid DNS label/);
    });
  }

  test("a name another client holds is refused with 409, in any case", async () => {
    await refused(() => post({ public_key: keyLine(), name: "taken" }), 409, /"taken" is taken by another client/);
    await refused(() => post({ public_key: keyLine(), name: "TAKEN" }), 409, /"taken" is taken by another client/);
  });

  test("a registration without a proof is refused with 401 and changes nothing", async () => {
    await refused(() => post({ public_key: keyLine() }, null), 401, /missing or malformed proof/);
  });

  test("a malformed proof is refused with 401 and changes nothing", async () => {
    await refused(() => post({ public_key: keyLine() }, "t=1,n=2,s=3"), 401, /missing or malformed proof/);
  });

  test("a proof made with a wrong token is refused with 401 and changes nothing", async () => {
    const body = JSON.stringify({ public_key: keyLine() });
    await refused(() => post(body, makeProof("not-the-token", body)), 401, /^wrong enrollment token$/);
  });

  test("a replayed request is refused with 401 the second time and changes nothing", async () => {
    const body = JSON.stringify({ public_key: keyLine() });
    const proof = makeProof(relay.token, body);
    assert.equal((await post(body, proof)).status, 201);
    await refused(() => post(body, proof), 401, /already used \(replay\)/);
  });

  // 30 s past the 300 s allowed: on a busy machine the request may take seconds to be checked, and 1 s past let one through.
  for (const [when, offset] of [["330 s old", -330_000], ["330 s in the future", 330_000]] as const) {
    test(`a proof ${when} is refused with 401 and changes nothing`, async () => {
      const body = JSON.stringify({ public_key: keyLine() });
      await refused(() => post(body, makeProof(relay.token, body, Date.now() + offset)), 401, /3[0-3]\d s away from the relay's clock/);
    });
  }
});

describe("a bad config file", () => {
  const home = makeHome("bad-config");
  const config = join(home.dir, "config.toml");
  let good: string;
  let ports: number[];

  before(async () => {
    ports = [await freePort(), await freePort(), await freePort(), await freePort()];
    await petitOk(home.dir, [
      "server", "init", "--domain", "petit.test", "--listen", "127.0.0.1", "--http-port", String(ports[0]),
      "--api-port", String(ports[1]), "--control-port", String(ports[2]), "--ssh-port", String(ports[3]),
      "--port-range", "20000-20009",
    ]);
    good = readFileSync(config, "utf8");
  });
  after(async () => {
    await petit(home.dir, ["server", "down"]);
    killFromPidFile(join(home.dir, "server/serverd.pid"));
    killFromPidFile(join(home.dir, "server/sshd.pid"));
    home.remove();
  });

  /** Tells whether something accepts connections on 127.0.0.1:`port`. */
  const listening = (port: number) => new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => { socket.destroy(); resolve(true); });
    socket.once("error", () => resolve(false));
  });

  const cases: [string, (text: string) => string, string, RegExp][] = [
    ["bad TOML", (t) => t.replace(/^http_port = \d+$/m, "http_port = "), "http_port", /line \d+ \("http_port ="\): invalid value/],
    ["a port given as a string", (t) => t.replace(/^http_port = (\d+)$/m, 'http_port = "$1"'), "server.http_port", /expected a port number/],
    ["a list where a string is expected", (t) => t.replace(/^listen = .*$/m, 'listen = ["127.0.0.1"]'), "server.listen", /expected an IP address or host name/],
    ["an unknown key", (t) => t.replace("[server]\n", "[server]\nhtp_port = 80\n"), "server.htp_port", /unknown key/],
    ["an unknown section", (t) => `${t}\n[sever]\nhttp_port = 80\n`, "sever", /unknown section/],
  ];
  for (const [what, edit, key, message] of cases) {
    test(`petit server up refuses a config with ${what}, naming the file and "${key}", and starts nothing`, async () => {
      const text = edit(good);
      assert.notEqual(text, good, "the edit changed nothing");
      writeFileSync(config, text);
      const result = await petit(home.dir, ["server", "up"], { timeout: 30_000 });
      assert.equal(result.exitCode, 1, String(result.stdout));
      const stderr = String(result.stderr);
      assert.ok(stderr.includes(`"${config}"`), stderr);
      assert.ok(stderr.includes(key), stderr);
      assert.match(stderr, message);
      assert.equal(existsSync(join(home.dir, "server/serverd.pid")), false, "a daemon pid file was left");
      for (const port of ports) assert.equal(await listening(port), false, `something listens on ${port}`);
    });
  }

  test("the same home starts once its good config is back", async () => {
    writeFileSync(config, good);
    try {
      await petitOk(home.dir, ["server", "up"]);
      assert.ok(await listening(ports[1]), "the API does not listen");
    } finally {
      await petit(home.dir, ["server", "down"]);
    }
  });
});
