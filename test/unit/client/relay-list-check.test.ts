import { test } from "node:test";
import assert from "node:assert/strict";
import { checkRelayList } from "../../../lib/client/relay-list-check.ts";
import { serializeRelayList, type RelayList } from "../../../lib/protocol/relay-list.ts";
import { parsePublicKey } from "../../../lib/ssh/public-key.ts";
import { signAs, signingKeyLine } from "../../helpers/signing-keys.ts";

const relayKey = signingKeyLine();
const otherKey = signingKeyLine();
const pinned = parsePublicKey(relayKey);
const now = 1765000000;
const list = (over: Partial<RelayList> = {}): RelayList => ({
  signer: "a", issued: now - 10, expires: now + 590,
  relays: [
    { name: "a", host: "127.0.0.1", port: 2201, api: "http://127.0.0.1:3014", host_key: relayKey },
    { name: "b", host: "127.0.0.2", port: 2202, api: "http://127.0.0.2:3014", host_key: otherKey },
  ],
  ...over,
});
const signed = (l: RelayList, by = relayKey) => {
  const text = serializeRelayList(l);
  return { text, signature: signAs(by, "petit-relays", text) };
};

test("checkRelayList() takes a list signed by the pinned key of the relay that sent it", async () => {
  const outcome = await checkRelayList(signed(list()), { signerKey: pinned, now });
  assert.equal(outcome.refused, undefined);
  assert.deepEqual(outcome.list?.relays.map((r) => r.name), ["a", "b"]);
});

test("checkRelayList() refuses a missing, unsigned, foreign-signed, altered or differently-namespaced list", async () => {
  const good = signed(list());
  const cases: Array<[unknown, RegExp]> = [
    [undefined, /carries no signed relay list/],
    [{ text: good.text }, /not \{text, signature\} strings/],
    [{ text: good.text, signature: "" }, /not signed by the relay's pinned host key/],
    [signed(list(), otherKey), /not signed by the relay's pinned host key/],
    [{ text: good.text.replace("127.0.0.2", "127.0.0.9"), signature: good.signature }, /not signed by the relay's pinned host key/],
    [{ text: good.text, signature: signAs(relayKey, "register@petit", good.text) }, /not signed by the relay's pinned host key/],
  ];
  for (const [value, reason] of cases) {
    const outcome = await checkRelayList(value, { signerKey: pinned, now });
    assert.equal(outcome.list, undefined);
    assert.match(outcome.refused!, reason);
  }
});

test("checkRelayList() refuses an expired list, one from the future, and one older than the list taken before from that relay", async () => {
  const expired = await checkRelayList(signed(list({ issued: now - 700, expires: now - 100 })), { signerKey: pinned, now });
  assert.match(expired.refused!, /expired 100 s ago/);
  const future = await checkRelayList(signed(list({ issued: now + 400, expires: now + 1000 })), { signerKey: pinned, now });
  assert.match(future.refused!, /issued 400 s in the future/);
  const older = await checkRelayList(signed(list({ issued: now - 20 })), { signerKey: pinned, now, previous: list() });
  assert.match(older.refused!, /older than the one accepted before from "a"/);
  const otherSigner = await checkRelayList(signed(list({ issued: now - 20 })), { signerKey: pinned, now, previous: list({ signer: "b" }) });
  assert.equal(otherSigner.refused, undefined, "lists of different relays are not compared");
});

test("checkRelayList() refuses a signed list whose signer does not list itself with the signing key", async () => {
  const l = list();
  l.relays[0].host_key = otherKey;
  const outcome = await checkRelayList(signed(l), { signerKey: pinned, now });
  assert.match(outcome.refused!, /signer "a" does not list itself with the key that signed it/);
});
