/**
 * labelFromHost(): which client label a visitor's Host header names.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { labelFromHost } from "../../../../lib/server/proxy/route.ts";

const DOMAIN = "relay.example.com";

describe("labelFromHost()", () => {
  test("labelFromHost() returns the ID label of <id>.<domain>", () => {
    assert.equal(labelFromHost(`1001.${DOMAIN}`, DOMAIN), "1001");
    assert.equal(labelFromHost(`20417.${DOMAIN}`, DOMAIN), "20417");
  });

  test("labelFromHost() returns the name label of <name>.<domain>", () => {
    assert.equal(labelFromHost(`shop.${DOMAIN}`, DOMAIN), "shop");
    assert.equal(labelFromHost(`my-erp-2.${DOMAIN}`, DOMAIN), "my-erp-2");
  });

  test("labelFromHost() ignores case in the label and the domain", () => {
    assert.equal(labelFromHost("SHOP.Relay.Example.COM", DOMAIN), "shop");
    assert.equal(labelFromHost("shop.relay.example.com", "RELAY.Example.com"), "shop");
  });

  test("labelFromHost() ignores a trailing dot on the host or the domain", () => {
    assert.equal(labelFromHost(`shop.${DOMAIN}.`, DOMAIN), "shop");
    assert.equal(labelFromHost(`shop.${DOMAIN}`, `${DOMAIN}.`), "shop");
  });

  test("labelFromHost() ignores a port, also after a trailing dot", () => {
    assert.equal(labelFromHost(`1001.${DOMAIN}:80`, DOMAIN), "1001");
    assert.equal(labelFromHost(`1001.${DOMAIN}:8080`, DOMAIN), "1001");
    assert.equal(labelFromHost(`1001.Relay.Example.com.:80`, DOMAIN), "1001");
  });

  test("labelFromHost() returns undefined for a host under another domain", () => {
    for (const host of ["shop.example.com", "shop.evilrelay.example.com", `shop.${DOMAIN}.evil.com`, "example.com"]) {
      assert.equal(labelFromHost(host, DOMAIN), undefined, host);
    }
    assert.equal(labelFromHost(`shop${DOMAIN}`, DOMAIN), undefined, "no dot before the domain");
  });

  test("labelFromHost() returns undefined for the bare domain", () => {
    assert.equal(labelFromHost(DOMAIN, DOMAIN), undefined);
    assert.equal(labelFromHost(`${DOMAIN}:80`, DOMAIN), undefined);
    assert.equal(labelFromHost(`.${DOMAIN}`, DOMAIN), undefined);
  });

  test("labelFromHost() returns undefined for a nested label", () => {
    assert.equal(labelFromHost(`a.shop.${DOMAIN}`, DOMAIN), undefined);
    assert.equal(labelFromHost(`a.b.${DOMAIN}`, DOMAIN), undefined);
  });

  test("labelFromHost() returns undefined for a label that is not a DNS label", () => {
    for (const label of ["-shop", "shop-", "sh_op", "sh op", "shöp", "a".repeat(64), "*"]) {
      assert.equal(labelFromHost(`${label}.${DOMAIN}`, DOMAIN), undefined, label);
    }
    assert.equal(labelFromHost(`${"a".repeat(63)}.${DOMAIN}`, DOMAIN), "a".repeat(63));
  });

  test("labelFromHost() returns undefined for an empty or missing host", () => {
    assert.equal(labelFromHost("", DOMAIN), undefined);
    assert.equal(labelFromHost(undefined, DOMAIN), undefined);
  });

  test("labelFromHost() returns undefined for an IPv6 literal", () => {
    for (const host of ["[::1]", "[::1]:80", "[2001:db8::1]:8080"]) assert.equal(labelFromHost(host, DOMAIN), undefined, host);
  });

  test("labelFromHost() returns undefined for a 1000-character host", () => {
    const host = `${"a".repeat(1000 - DOMAIN.length - 1)}.${DOMAIN}`;
    assert.equal(host.length, 1000);
    assert.equal(labelFromHost(host, DOMAIN), undefined);
    assert.equal(labelFromHost(`${"1".repeat(1000)}:80`, DOMAIN), undefined);
  });

  test('labelFromHost() returns undefined for "." and ".."', () => {
    for (const host of [".", "..", `..${DOMAIN}`, `shop..${DOMAIN}`, `shop.${DOMAIN}..`]) {
      assert.equal(labelFromHost(host, DOMAIN), undefined, host);
    }
  });
});
