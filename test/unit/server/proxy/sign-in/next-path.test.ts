import { test } from "node:test";
import assert from "node:assert/strict";
import { safeNextPath } from "../../../../../lib/server/proxy/sign-in/next-path.ts";

test("safeNextPath() keeps a path on this host with its query", () => {
  assert.equal(safeNextPath("/"), "/");
  assert.equal(safeNextPath("/orders?id=7&x=%2F"), "/orders?id=7&x=%2F");
});

test("safeNextPath() turns anything that could leave the host into \"/\"", () => {
  for (const bad of [
    "//evil.example/", "/\\evil.example", "\\\\evil.example", "https://evil.example/", "evil.example", "javascript:alert(1)",
    "/a b", "/a\r\nLocation: https://evil.example", "/\t/evil.example", "/é", "", null, undefined, `/${"a".repeat(3000)}`,
  ]) assert.equal(safeNextPath(bad), "/", String(bad));
});

test("safeNextPath() does not send a browser back to petit's own pages", () => {
  assert.equal(safeNextPath("/.petit/sign-in"), "/");
  assert.equal(safeNextPath("/.petit"), "/");
});
