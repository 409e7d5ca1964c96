import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRelayList, serializeRelayList, type RelayEntry, type RelayList } from "../../../lib/protocol/relay-list.ts";
import { signingKeyLine } from "../../helpers/signing-keys.ts";

const keyA = signingKeyLine(Buffer.alloc(32, 1));
const keyB = signingKeyLine(Buffer.alloc(32, 2));
const a: RelayEntry = { name: "relay-a:80", host: "10.0.0.2", port: 22, api: "http://10.0.0.2:3014", host_key: keyA };
const b: RelayEntry = { name: "relay-b:80", host: "10.0.0.3", port: 2222, api: "https://[fd00::3]:3014", host_key: keyB };
const list: RelayList = { signer: "relay-b:80", issued: 1765000000, expires: 1765000600, relays: [b, a] };
const canonical = "petit-relays 1\nsigner relay-b:80\nissued 1765000000\nexpires 1765000600\n" +
  `relay relay-a:80 10.0.0.2 22 http://10.0.0.2:3014 ${keyA}\nrelay relay-b:80 10.0.0.3 2222 https://[fd00::3]:3014 ${keyB}\n`;

test("serializeRelayList() writes one field per line, the relays sorted by name", () => {
  assert.equal(serializeRelayList(list), canonical);
  assert.equal(serializeRelayList({ ...list, relays: [a, b] }), canonical, "the order given does not change the text");
});

test("parseRelayList() reads back exactly what serializeRelayList() wrote", () => {
  assert.deepEqual(parseRelayList(canonical), { ...list, relays: [a, b] });
});

test("serializeRelayList() refuses to sign a field outside its pattern, a duplicate, an absent signer or times out of order", () => {
  assert.throws(() => serializeRelayList({ ...list, relays: [a, { ...b, name: "b\nrelay evil 1.2.3.4 22 http://x:1 k k" }] }), /relay name/);
  assert.throws(() => serializeRelayList({ ...list, relays: [a, { ...b, host: "evil host" }] }), /ssh host/);
  assert.throws(() => serializeRelayList({ ...list, relays: [a, { ...b, api: "http://x:1/path" }] }), /API address/);
  assert.throws(() => serializeRelayList({ ...list, relays: [a, { ...b, port: 70000 }] }), /ssh port 70000/);
  assert.throws(() => serializeRelayList({ ...list, relays: [a, { ...b, host_key: `${keyB} comment` }] }), /without a comment/);
  assert.throws(() => serializeRelayList({ ...list, relays: [a, b, { ...b }] }), /appears twice/);
  assert.throws(() => serializeRelayList({ ...list, signer: "relay-c:80" }), /signer "relay-c:80" is not in it/);
  assert.throws(() => serializeRelayList({ ...list, expires: list.issued }), /not whole seconds in order/);
});

test("parseRelayList() refuses anything but the canonical text, naming the line", () => {
  const refusals: Array<[string, RegExp]> = [
    [canonical.slice(0, -1), /does not end with a newline/],
    [canonical.replace("petit-relays 1", "petit-relays 2"), /does not start with/],
    [canonical.replace("\n", "\r\n"), /does not start with/],
    [canonical.replace("issued 1765000000", "issued  1765000000"), /line 3 is not "issued …"/],
    [canonical.replace("issued 1765000000", "issued -1"), /line 3 is not "issued …"/],
    [canonical + "comment yes\n", /line 7 is not "relay …"/],
    [canonical + `relay relay-c 10.0.0.4 22 http://10.0.0.4:3014 ${keyA} extra\n`, /line 7 is not "relay …"/],
    [canonical + `relay relay-c 10.0.0.4 22 ftp://10.0.0.4:3014 ${keyA}\n`, /line 7: relay "relay-c": API address/],
    [canonical + `relay relay-c 10.0.0.4 22 http://10.0.0.4:3014 ssh-dss AAAA\n`, /line 7: relay "relay-c": host key/],
    [canonical + `relay relay-0 10.0.0.4 22 http://10.0.0.4:3014 ${keyA}\n`, /not in canonical form/],
    [canonical.replace("signer relay-b:80", "signer relay-z:80"), /signer "relay-z:80" is not in it/],
    [canonical.replace("expires 1765000600", "expires 1765000000"), /not whole seconds in order/],
    ["x".repeat(70_000), /longer than/],
  ];
  for (const [text, reason] of refusals) assert.throws(() => parseRelayList(text), reason, JSON.stringify(text.slice(0, 200)));
});
