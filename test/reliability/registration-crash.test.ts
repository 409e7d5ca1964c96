/**
 * petit-serverd killed (-9) in the middle of a burst of registrations: the
 * registry on disk must stay whole and consistent, every answered
 * registration must be in it, and authorized_keys must match it after the
 * next start. Prints a `RELIABILITY {…}` line per round.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { pidFrom, report, serverStatus, signal, sleep, timeUntil } from "../helpers/faults.ts";
import { startRelay, type Relay } from "../helpers/fixture.ts";
import { petitOk } from "../helpers/petit.ts";
import { registrationHeaders, signingKeyLine } from "../helpers/signing-keys.ts";

const BURST = 50;

/** What one registration request got: its HTTP status, or the error that cut it. */
interface Attempt {
  key: string;
  status: number | string;
  answer?: { id: number; port: number };
}

/** A registry entry as stored on disk (only what this test reads). */
interface Entry {
  id: number;
  port: number;
  key: { type: string; blob: string };
}

describe("petit-serverd killed during concurrent registrations", () => {
  let relay: Relay;

  before(async () => {
    relay = await startRelay({ rangeSize: 4 * BURST });
    // One registration first, so registry.json exists and every round checks a file that was there before.
    const seed = await register(relay, signingKeyLine());
    assert.equal(seed.status, 201);
  });

  after(async () => {
    await relay?.stop();
  });

  // The kill comes this long after the burst's first answer: early, middle and late in the burst
  // on this machine, and always while registrations are in flight, however fast the machine is.
  for (const delay of [0, 40, 120]) {
    test(`a kill ${delay} ms after the first of ${BURST} concurrent registrations is answered loses no answered one and leaves registry and keys consistent`, { timeout: 60_000 }, async () => {
      await petitOk(relay.home, ["server", "up", "--quiet"]); // a round that failed may have left it down
      const keys = Array.from({ length: BURST }, () => signingKeyLine());
      const serverd = pidFrom(join(relay.home, "server/serverd.pid"))!;
      let firstAnswer: () => void = () => {};
      const answeredOnce = new Promise<void>((resolve) => (firstAnswer = resolve));
      const burst = Promise.all(keys.map(async (key) => {
        const attempt = await register(relay, key);
        if (typeof attempt.status === "number") firstAnswer();
        return attempt;
      }));
      await Promise.race([answeredOnce, sleep(5_000)]);
      await sleep(delay);
      signal(serverd, "SIGKILL");
      const killedAt = Date.now();
      const attempts = await burst;
      assert.notEqual(await timeUntil(async () => (await serverStatus(relay)) === undefined, killedAt, 5_000), null);

      // Right after the kill: the registry parses and hands out nothing twice.
      const onDisk = readRegistry(relay);
      assertUnique(onDisk);
      const answered = attempts.filter((a) => a.status === 200 || a.status === 201);
      for (const a of answered) assert.deepEqual(entryFor(onDisk, a.key), { id: a.answer!.id, port: a.answer!.port }, `answered ${a.key}`);

      const upStart = Date.now();
      await petitOk(relay.home, ["server", "up"]);
      const upMs = Date.now() - upStart;
      const registry = readRegistry(relay);
      assert.deepEqual(registry, onDisk, "starting again changes nothing in the registry");
      assert.deepEqual(authorizedGrants(relay), registry.map((e) => ({ id: e.id, port: e.port, blob: e.key.blob })).sort((a, b) => a.id - b.id));

      // A client whose answer was cut registers again and gets one ID, whether or not its first try was saved.
      const cut = attempts.filter((a) => !answered.includes(a));
      const retried = await Promise.all(cut.map((a) => register(relay, a.key)));
      assert.deepEqual(retried.filter((r) => r.status !== 200 && r.status !== 201), []);
      const final = readRegistry(relay);
      assertUnique(final);
      for (const r of retried) assert.deepEqual(entryFor(final, r.key), { id: r.answer!.id, port: r.answer!.port });
      report({
        fault: "petit-serverd killed during registrations", kill_after_first_answer_ms: delay, requests: BURST, answered: answered.length,
        cut: cut.length, saved_unanswered: cut.filter((a) => entryFor(onDisk, a.key)).length, server_up_ms: upMs,
        temp_files_left: readdirSync(join(relay.home, "server")).filter((f) => f.endsWith(".tmp")).length,
      });
    });
  }
});

/** POSTs one registration the way `petit register` does; never throws. */
async function register(relay: Relay, key: string): Promise<Attempt> {
  const body = JSON.stringify({ public_key: key });
  try {
    const res = await request(`${relay.apiUrl}/v1/register`, {
      method: "POST", body, headersTimeout: 10_000, bodyTimeout: 10_000,
      headers: registrationHeaders(relay.token, body),
    });
    const text = await res.body.text();
    const answer = res.statusCode < 300 ? (JSON.parse(text) as { id: number; port: number }) : undefined;
    return { key, status: res.statusCode, answer: answer && { id: answer.id, port: answer.port } };
  } catch (error) {
    return { key, status: (error as { code?: string }).code ?? (error as Error).name };
  }
}

/** Reads registry.json; throws (failing the test) when it does not parse. */
function readRegistry(relay: Relay): Entry[] {
  const data = JSON.parse(readFileSync(join(relay.home, "server/registry.json"), "utf8")) as { clients: Entry[] };
  return data.clients.map(({ id, port, key }) => ({ id, port, key: { type: key.type, blob: key.blob } }));
}

function assertUnique(entries: Entry[]): void {
  assert.equal(new Set(entries.map((e) => e.id)).size, entries.length, "IDs are unique");
  assert.equal(new Set(entries.map((e) => e.port)).size, entries.length, "ports are unique");
}

/** The registry entry (ID and port) of the key line `key`, if any. */
function entryFor(entries: Entry[], key: string): { id: number; port: number } | undefined {
  const blob = key.split(" ")[1];
  const entry = entries.find((e) => e.key.blob === blob);
  return entry && { id: entry.id, port: entry.port };
}

/** Parses authorized_keys into one grant per line; a line that is not a petit grant fails the test. */
function authorizedGrants(relay: Relay): { id: number; port: number; blob: string }[] {
  const lines = readFileSync(join(relay.home, "server/authorized_keys"), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
  return lines.map((line) => {
    const m = /^restrict,port-forwarding,permitlisten="127\.0\.0\.1:(\d+)",command="[^"]*" \S+ (\S+) petit-(\d+)$/.exec(line);
    assert.ok(m, `not a petit grant with exactly one port: ${line}`);
    return { id: Number(m[3]), port: Number(m[1]), blob: m[2] };
  });
}

