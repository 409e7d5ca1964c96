import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenUses } from "../../../../lib/server/tokens/token-uses.ts";
import { TokenStore } from "../../../../lib/server/tokens/tokens.ts";

const dir = mkdtempSync(join(tmpdir(), "petit-token-uses-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh store with a main token and one extra token of `uses` uses. */
function storeWith(uses: number): { store: TokenStore; id: string } {
  const sub = mkdtempSync(join(dir, "store-"));
  writeFileSync(join(sub, "enroll.token"), "main-secret\n", { mode: 0o600 });
  const store = new TokenStore({ main: join(sub, "enroll.token"), extra: join(sub, "tokens.json") });
  return { store, id: store.create({ uses }).id };
}

const usesLeft = (store: TokenStore, id: string) => store.list().find((t) => t.id === id)?.uses_left;

test("TokenUses.hold() gives a one-use token to one registration at a time and takes it back on release()", () => {
  const { store, id } = storeWith(1);
  const uses = new TokenUses(store);
  const first = uses.hold(id);
  assert.ok(first);
  assert.equal(uses.hold(id), undefined, "the only use is held");
  first.release();
  const again = uses.hold(id);
  assert.ok(again, "a released use can be held again");
  again.release();
  assert.equal(usesLeft(store, id), 1, "holding and releasing counts nothing");
});

test("TokenUses commit() counts the use in the store once, and a later release() gives nothing back", () => {
  const { store, id } = storeWith(2);
  const uses = new TokenUses(store);
  const a = uses.hold(id)!;
  const b = uses.hold(id)!;
  assert.equal(uses.hold(id), undefined, "both uses are held");
  a.commit();
  a.commit();
  a.release();
  assert.equal(usesLeft(store, id), 1);
  assert.equal(uses.hold(id), undefined, "the other use is still held");
  b.commit();
  assert.equal(usesLeft(store, id), 0);
  assert.equal(uses.hold(id), undefined, "used up");
});

test("TokenUses.hold() refuses unknown and revoked tokens and always holds the main token", () => {
  const { store, id } = storeWith(3);
  const uses = new TokenUses(store);
  assert.equal(uses.hold("t99"), undefined);
  store.revoke(id);
  assert.equal(uses.hold(id), undefined);
  const main = uses.hold("main");
  assert.ok(main && uses.hold("main"), "the main token has no use count");
  main.commit();
});
