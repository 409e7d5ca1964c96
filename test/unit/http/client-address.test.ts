/**
 * walkForwardedFor(): which address of X-Forwarded-For is the visitor's,
 * behind trusted load balancers.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { plainAddress, walkForwardedFor } from "../../../lib/http/client-address.ts";
import { parseNetworks } from "../../../lib/server/proxy/visitor-auth.ts";

const trusted = parseNetworks(["10.0.0.0/8", "2001:db8:1::/48"])!;

describe("walkForwardedFor()", () => {
  test("walkForwardedFor() returns the entry the trusted peer appended", () => {
    assert.equal(walkForwardedFor("203.0.113.7", "10.0.0.1", trusted), "203.0.113.7");
  });

  test("walkForwardedFor() returns the right-most untrusted entry, never what the visitor wrote on the left", () => {
    assert.equal(walkForwardedFor("198.51.100.9, 203.0.113.7", "10.0.0.1", trusted), "203.0.113.7");
  });

  test("walkForwardedFor() skips trusted proxies from the right", () => {
    assert.equal(walkForwardedFor("198.51.100.9, 203.0.113.7, 10.0.0.3, 10.0.0.2", "10.0.0.1", trusted), "203.0.113.7");
    assert.equal(walkForwardedFor("203.0.113.7,2001:db8:1::5", "10.0.0.1", trusted), "203.0.113.7");
  });

  test("walkForwardedFor() joins repeated headers in order", () => {
    assert.equal(walkForwardedFor(["198.51.100.9", "203.0.113.7, 10.0.0.2"], "10.0.0.1", trusted), "203.0.113.7");
  });

  test("walkForwardedFor() skips empty list elements and surrounding spaces", () => {
    assert.equal(walkForwardedFor(" 203.0.113.7 ,, ", "10.0.0.1", trusted), "203.0.113.7");
  });

  test("walkForwardedFor() returns the left-most trusted hop when every entry is trusted", () => {
    assert.equal(walkForwardedFor("10.0.0.3, 10.0.0.2", "10.0.0.1", trusted), "10.0.0.3");
    assert.equal(walkForwardedFor("", "10.0.0.1", trusted), "10.0.0.1");
  });

  test("walkForwardedFor() stops at an entry that is not an address and answers with the nearest trusted hop", () => {
    assert.equal(walkForwardedFor("203.0.113.7, unknown, 10.0.0.2", "10.0.0.1", trusted), "10.0.0.2");
    assert.equal(walkForwardedFor("203.0.113.7:5123", "10.0.0.1", trusted), "10.0.0.1");
  });

  test("walkForwardedFor() reads an IPv4-mapped IPv6 entry as the IPv4 address", () => {
    assert.equal(walkForwardedFor("::ffff:203.0.113.7", "10.0.0.1", trusted), "203.0.113.7");
  });
});

describe("plainAddress()", () => {
  test("plainAddress() drops the ::ffff: of an IPv4 visitor on a dual-stack listener and leaves IPv6 alone", () => {
    assert.equal(plainAddress("::ffff:127.0.0.1"), "127.0.0.1");
    assert.equal(plainAddress("::ffff:1"), "::ffff:1");
    assert.equal(plainAddress("2001:db8::1"), "2001:db8::1");
  });
});
