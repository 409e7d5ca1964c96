/**
 * parseHostPort(), parseRange(), checkValue() and defaultsOf(): the value
 * checks behind config.toml.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { clientFields, defaultsOf, serverFields } from "../../../lib/config/schema.ts";
import { checkValue, expandTarget, parseHostPort, parseRange } from "../../../lib/config/values.ts";

describe("config schema", () => {
  test("expandTarget() reads a bare port as a service on this machine and leaves anything else alone", () => {
    assert.equal(expandTarget("8080"), "127.0.0.1:8080");
    assert.equal(expandTarget("erp.lan:5000"), "erp.lan:5000");
    assert.equal(expandTarget("[::1]:80"), "[::1]:80");
    assert.equal(expandTarget("123456"), "123456", "too many digits: left for parseHostPort to refuse");
    assert.equal(expandTarget(""), "");
  });

  test("parseHostPort() parses HOST:PORT for names and IPv4 addresses", () => {
    assert.deepEqual(parseHostPort("127.0.0.1:8080"), { host: "127.0.0.1", port: 8080 });
    assert.deepEqual(parseHostPort("localhost:1"), { host: "localhost", port: 1 });
    assert.deepEqual(parseHostPort("my-app.internal:65535"), { host: "my-app.internal", port: 65535 });
  });

  test("parseHostPort() parses a bracketed IPv6 address and returns it without brackets", () => {
    assert.deepEqual(parseHostPort("[::1]:8080"), { host: "::1", port: 8080 });
    assert.deepEqual(parseHostPort("[2001:db8::5]:443"), { host: "2001:db8::5", port: 443 });
    assert.deepEqual(parseHostPort("[::ffff:127.0.0.1]:80"), { host: "::ffff:127.0.0.1", port: 80 });
  });

  test("parseHostPort() refuses port 0, ports above 65535 and ports of six digits", () => {
    for (const text of ["127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:100000", "127.0.0.1:00"]) {
      assert.equal(parseHostPort(text), undefined, text);
    }
  });

  test("parseHostPort() refuses a missing host or port and unbracketed IPv6", () => {
    for (const text of ["8080", ":8080", "localhost", "localhost:", "::1:8080", "[::1]", "[::1]8080", "[]:80"]) {
      assert.equal(parseHostPort(text), undefined, text);
    }
  });

  test("parseHostPort() refuses spaces, schemes, paths and odd characters", () => {
    for (const text of [
      " localhost:80", "localhost:80 ", "http://localhost:80", "localhost:80/x", "local_host:80",
      "a b:80", "localhost:+80", "localhost:8e1", "[evil.com]:80", "",
    ]) {
      assert.equal(parseHostPort(text), undefined, JSON.stringify(text));
    }
  });

  test("parseRange() parses FIRST-LAST, including a one-port range and the ends of the port space", () => {
    assert.deepEqual(parseRange("11000-11999"), { first: 11000, last: 11999 });
    assert.deepEqual(parseRange("12000-12000"), { first: 12000, last: 12000 });
    assert.deepEqual(parseRange("1-65535"), { first: 1, last: 65535 });
  });

  test("parseRange() refuses an empty or reversed range and ports outside 1-65535", () => {
    for (const text of ["12000-11999", "0-10", "1-65536", "65535-65536", "99999-99999"]) {
      assert.equal(parseRange(text), undefined, text);
    }
  });

  test("parseRange() refuses anything but two numbers joined by one hyphen", () => {
    for (const text of ["", "11000", "11000-", "-11000", "11000 - 11999", "11000..11999", "1-2-3", "a-b", "-1-5", "110000-110001"]) {
      assert.equal(parseRange(text), undefined, JSON.stringify(text));
    }
  });

  test("checkValue() accepts ports 0-65535 and refuses others, saying what is expected", () => {
    const port = serverFields.http_port;
    for (const ok of [0, 80, 65535]) assert.equal(checkValue(port, ok), undefined, String(ok));
    for (const bad of [-1, 65536, 80.5, "80", null, NaN]) {
      assert.equal(checkValue(port, bad), "a port number from 0 to 65535", String(bad));
    }
  });

  test("checkValue() applies an integer field's bounds and names them", () => {
    const field = clientFields.keepalive_count;
    assert.equal(checkValue(field, field.min), undefined);
    assert.equal(checkValue(field, field.max), undefined);
    assert.match(checkValue(field, field.min! - 1) ?? "", new RegExp(`from ${field.min} to ${field.max}`));
    assert.ok(checkValue(field, field.max! + 1));
    assert.ok(checkValue(field, 2.5));
    assert.ok(checkValue(clientFields.id, 0));
    assert.equal(checkValue(clientFields.id, 1_000_000), undefined, "id has no upper bound");
  });

  test("checkValue() checks URLs, hosts, targets and ranges by their kind", () => {
    assert.equal(checkValue(clientFields.relay, "https://relay.example.com:3014"), undefined);
    for (const bad of ["relay.example.com", "ftp://x", "http://", "http:// x", 5]) assert.ok(checkValue(clientFields.relay, bad), String(bad));
    assert.equal(checkValue(serverFields.domain, "relay.example.com"), undefined);
    assert.equal(checkValue(clientFields.ssh_host, "[::1]"), undefined);
    for (const bad of ["relay example", "relay/x", "a;b", 7]) assert.ok(checkValue(serverFields.domain, bad), String(bad));
    assert.equal(checkValue(clientFields.target, "[::1]:8080"), undefined);
    assert.ok(checkValue(clientFields.target, "8080"));
    assert.equal(checkValue(serverFields.port_range, "20000-20999"), undefined);
    assert.ok(checkValue(serverFields.port_range, "20999-20000"));
  });

  test("defaultsOf() returns exactly the fields that have a default", () => {
    const defaults = defaultsOf(clientFields);
    for (const key of ["relay", "id", "port", "ssh_host", "ssh_port", "ssh_user"]) assert.ok(!(key in defaults), key);
    for (const [key, value] of Object.entries(defaults)) {
      assert.equal(checkValue(clientFields[key as keyof typeof clientFields], value), undefined, `default of ${key} is valid`);
    }
    assert.ok(!("domain" in defaultsOf(serverFields)));
    assert.equal(Object.keys(defaultsOf(serverFields)).length, Object.keys(serverFields).length - 1);
  });
});
