import { test } from "node:test";
import assert from "node:assert/strict";
import { checkRelayListRequest } from "../../../../lib/server/api/relay-list-request.ts";
import type { ClientRecord } from "../../../../lib/server/registry/registry.ts";
import { parsePublicKey } from "../../../../lib/ssh/public-key.ts";
import { signAs, signingKeyLine } from "../../../helpers/signing-keys.ts";

const line = signingKeyLine();
const client = { id: 1001, key: parsePublicKey(line) } as unknown as ClientRecord;
const lookup = (id: number) => (id === 1001 ? client : undefined);
const now = 1765000000_000;

test("checkRelayListRequest() returns the client whose key signed a fresh request", async () => {
  const body = JSON.stringify({ id: 1001, t: now / 1000 });
  assert.equal(await checkRelayListRequest(body, signAs(line, "relays@petit", body), { lookup, now }), client);
});

test("checkRelayListRequest() refuses extra fields, a stale time, an unknown client, another key's or another purpose's signature", async () => {
  const body = JSON.stringify({ id: 1001, t: now / 1000 });
  const cases: Array<[string, string | undefined, RegExp, number]> = [
    [JSON.stringify({ id: 1001, t: now / 1000, n: "x" }), undefined, /must be exactly/, 400],
    [JSON.stringify({ id: 1001, t: now / 1000 - 400 }), undefined, /400 s away from the relay's clock/, 401],
    [JSON.stringify({ id: 1002, t: now / 1000 }), undefined, /not signed by the key of a registered client/, 401],
    [body, undefined, /not signed by the key of a registered client/, 401],
    [body, signAs(signingKeyLine(), "relays@petit", body), /not signed by the key of a registered client/, 401],
    [body, signAs(line, "release-port@petit", body), /not signed by the key of a registered client/, 401],
  ];
  for (const [text, signature, reason, status] of cases) {
    await assert.rejects(checkRelayListRequest(text, signature, { lookup, now }), (error: Error & { status?: number }) => {
      assert.match(error.message, reason);
      assert.equal(error.status ?? 400, status, text);
      return true;
    });
  }
});
