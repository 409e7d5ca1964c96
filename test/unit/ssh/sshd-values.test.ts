/**
 * No setting can add a line to sshd_config: config load refuses bad values,
 * and the renderers refuse any word with a line break, control character,
 * quote or whitespace, naming the setting.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { serverFields } from "../../../lib/config/schema.ts";
import { checkValue } from "../../../lib/config/values.ts";
import { renderDropIn, renderSshdConfig, type SshdSettings } from "../../../lib/ssh/sshd-config.ts";
import { sshdWordProblem } from "../../../lib/ssh/sshd-values.ts";

const settings: SshdSettings = {
  listen: "127.0.0.1", port: 2222, hostKey: "/srv/petit/server/host_key", authorizedKeys: "/srv/petit/server/authorized_keys",
  pidFile: "/srv/petit/server/sshd.pid", user: "petit-tunnel", strictModes: true,
};

test("renderSshdConfig() refuses a listen address with a line break, naming server.listen", () => {
  assert.throws(() => renderSshdConfig({ ...settings, listen: "127.0.0.1\nPermitOpen any" }),
    /^Error: Cannot use server\.listen "127\.0\.0\.1\\nPermitOpen any": it contains a line break/);
});

test("renderSshdConfig() refuses a tunnel user or a path that would add a directive", () => {
  assert.throws(() => renderSshdConfig({ ...settings, user: "petit\nAllowUsers root" }), /Cannot use server\.tunnel_user .*line break/);
  assert.throws(() => renderSshdConfig({ ...settings, authorizedKeys: "/srv/keys\rAuthorizedKeysFile /tmp/k" }), /authorized_keys path .*line break/);
  assert.throws(() => renderSshdConfig({ ...settings, hostKey: "/srv/host key" }), /host key path .*whitespace/);
  assert.throws(() => renderSshdConfig({ ...settings, pidFile: '/srv/"pid' }), /pid file path .*quote/);
});

test("renderDropIn() refuses a tunnel user with a line break", () => {
  assert.throws(() => renderDropIn({ user: "t\nMatch all", authorizedKeys: "/srv/keys" }), /Cannot use server\.tunnel_user "t\\nMatch all"/);
});

test("renderSshdConfig() still renders ordinary settings, IPv6 included", () => {
  assert.match(renderSshdConfig({ ...settings, listen: "::" }), /^ListenAddress ::$/m);
  assert.match(renderSshdConfig(settings), /^AllowUsers petit-tunnel$/m);
});

test("sshdWordProblem() names each kind of forbidden character", () => {
  assert.equal(sshdWordProblem("0.0.0.0"), undefined);
  assert.equal(sshdWordProblem("a\nb"), "it contains a line break");
  assert.equal(sshdWordProblem("a\0b"), "it contains a control character");
  assert.equal(sshdWordProblem("a'b"), "it contains a quote or backslash");
  assert.equal(sshdWordProblem("a b"), "it contains whitespace");
  assert.equal(sshdWordProblem(""), "it is empty");
});

test("config load refuses a listen, tunnel user or path that could reach sshd_config with a line break", () => {
  assert.match(checkValue(serverFields.listen, "127.0.0.1\nPermitOpen any") ?? "", /an IP address or host name/);
  assert.match(checkValue(serverFields.listen, "") ?? "", /an IP address/);
  assert.equal(checkValue(serverFields.listen, "::"), undefined);
  assert.equal(checkValue(serverFields.listen, "fe80::1%eth0"), undefined);
  assert.match(checkValue(serverFields.tunnel_user, "t\nAllowUsers root") ?? "", /an account name/);
  assert.equal(checkValue(serverFields.tunnel_user, ""), undefined);
  assert.equal(checkValue(serverFields.tunnel_user, "petit-tunnel"), undefined);
  for (const key of ["sshd_path", "tls_cert", "system_dropin_dir", "access_log"] as const) {
    assert.match(checkValue(serverFields[key], "/x\nPermitOpen any") ?? "", /a path without line breaks/, key);
    assert.equal(checkValue(serverFields[key], "/etc/ssh/sshd_config.d"), undefined, key);
  }
});
