/**
 * classifyExit(): which ssh exits are worth retrying, and the one line that
 * says why.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CANNOT_RUN_SSH, classifyExit } from "../../../lib/client/classify.ts";

const HOST_KEY_CHANGED = [
  "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
  "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
  "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
  "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!",
  "Host key verification failed.",
];

describe("classifyExit()", () => {
  test("classifyExit() says a publickey denial is not retryable and tells to register again", () => {
    const reason = classifyExit(255, null, ["petit@relay.example.com: Permission denied (publickey)."]);
    assert.equal(reason.retryable, false);
    assert.match(reason.message, /refused this client's key/);
    assert.match(reason.message, /petit register/);
    assert.equal(reason.network, false);
    const multi = classifyExit(255, null, ["Permission denied (publickey,password)."]);
    assert.equal(multi.retryable, false);
  });

  test("classifyExit() says an ssh that could not be started is not retryable and names the program and the fix", () => {
    const reason = classifyExit(null, null, [`${CANNOT_RUN_SSH} "/opt/none/ssh": ENOENT`]);
    assert.equal(reason.retryable, false);
    assert.equal(reason.network, false);
    assert.equal(reason.message, `cannot run ssh "/opt/none/ssh": ENOENT (install OpenSSH's client, e.g. apt-get install openssh-client, or set client.ssh_path)`);
  });

  test("classifyExit() says a changed host key is not retryable", () => {
    const reason = classifyExit(255, null, HOST_KEY_CHANGED);
    assert.equal(reason.retryable, false);
    assert.match(reason.message, /host key does not match/);
  });

  test("classifyExit() says a failed host key verification or a missing pin is not retryable", () => {
    assert.equal(classifyExit(255, null, ["Host key verification failed."]).retryable, false);
    assert.equal(classifyExit(255, null, ["No ED25519 host key is known for petit-relay and you have requested strict checking."]).retryable, false);
  });

  test("classifyExit() says a refused forward is retryable and names the port", () => {
    const reason = classifyExit(255, null, ["Error: remote port forwarding failed for listen port 11081"]);
    assert.equal(reason.retryable, true);
    assert.match(reason.message, /\b11081\b/);
    assert.match(reason.message, /refused the forward/);
    assert.equal(reason.network, false, "a held port is the relay's answer, not a network fault");
  });

  test("classifyExit() finds the forward refusal among other stderr lines", () => {
    const reason = classifyExit(255, null, [
      "Warning: Permanently added 'petit-relay' (ED25519) to the list of known hosts.",
      "Error: remote port forwarding failed for listen port 12345",
      "",
    ]);
    assert.equal(reason.retryable, true);
    assert.match(reason.message, /port 12345/);
  });

  test("classifyExit() reports a signal as retryable and names it", () => {
    const reason = classifyExit(null, "SIGKILL", []);
    assert.equal(reason.retryable, true);
    assert.match(reason.message, /SIGKILL/);
    assert.equal(reason.network, false);
  });

  test("classifyExit() reports a plain exit with its code and last non-empty stderr line", () => {
    const reason = classifyExit(255, null, [
      "some earlier line", "Timeout, server relay.example.com not responding.", "  ", "",
    ]);
    assert.equal(reason.retryable, true);
    assert.match(reason.message, /\b255\b/);
    assert.match(reason.message, /Timeout, server relay\.example\.com not responding\.$/);
    assert.doesNotMatch(reason.message, /some earlier line/);
    assert.equal(reason.network, true, "a keepalive timeout is a network fault");
  });

  test("classifyExit() marks an unreachable relay as a network fault", () => {
    for (const line of [
      "ssh: connect to host relay.example.com port 2222: Connection refused",
      "ssh: connect to host relay.example.com port 2222: Connection timed out",
      "ssh: connect to host 10.0.0.1 port 2222: No route to host",
      "ssh: connect to host 10.0.0.1 port 2222: Network is unreachable",
      "ssh: Could not resolve hostname relay.example.com: Temporary failure in name resolution",
      "kex_exchange_identification: read: Connection reset by peer",
      "Connection closed by 10.0.0.1 port 2222",
      // The relay (or its machine) went away under an open session: relays sharing a store then move the tunnel.
      "Connection to 10.0.0.1 closed by remote host.",
      "client_loop: send disconnect: Broken pipe",
    ]) {
      const reason = classifyExit(255, null, [line]);
      assert.deepEqual([reason.retryable, reason.network], [true, true], line);
    }
  });

  test("classifyExit() does not call every plain exit a network fault", () => {
    const reason = classifyExit(1, null, ["Bad configuration option: foo"]);
    assert.deepEqual([reason.retryable, reason.network], [true, false]);
  });

  test("classifyExit() reports a plain exit with no stderr by its code alone", () => {
    const reason = classifyExit(1, null, []);
    assert.equal(reason.retryable, true);
    assert.match(reason.message, /\b1\b/);
    assert.equal(classifyExit(0, null, ["", " "]).retryable, true);
  });

  test("classifyExit() marks ssh's own failure to reach the relay as unreachable, and a refused forward as such", () => {
    for (const line of [
      "ssh: connect to host 10.0.0.1 port 2222: Connection timed out",
      "ssh: connect to host relay.example.com port 2222: Connection refused",
      "Timeout, server relay.example.com not responding.",
    ]) assert.equal(classifyExit(255, null, [line]).unreachable, true, line);
    for (const line of ["kex_exchange_identification: read: Connection reset by peer", "Connection closed by 10.0.0.1 port 2222", ""]) {
      assert.notEqual(classifyExit(255, null, [line]).unreachable, true, line);
    }
    assert.equal(classifyExit(255, null, ["Error: remote port forwarding failed for listen port 12345"]).forwardRefused, true);
  });

  test("classifyExit() lets a key denial win over a signal", () => {
    assert.equal(classifyExit(null, "SIGTERM", ["Permission denied (publickey)."]).retryable, false);
  });
});
