/**
 * tunnelArgs(): the client's ssh argv, argument by argument, and as ssh
 * itself reads it (`ssh -G` prints the resulting configuration).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tunnelArgs, type TunnelSpec } from "../../../lib/ssh/tunnel-args.ts";

/** Returns the `-o NAME=VALUE` options in `args` as a map. */
function options(args: string[]): Map<string, string> {
  const out = new Map<string, string>();
  args.forEach((arg, i) => {
    if (arg !== "-o") return;
    const [name, ...value] = args[i + 1].split("=");
    out.set(name, value.join("="));
  });
  return out;
}

/** Returns the values following each occurrence of `flag`. */
function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag ? [args[i + 1]] : []));
}

describe("tunnelArgs()", () => {
  let dir: string;
  let spec: TunnelSpec;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "petit-tunnel-args-"));
    writeFileSync(join(dir, "id_ed25519"), "", { mode: 0o600 });
    spec = {
      host: "relay.example.com", port: 2222, user: "petit",
      keyFile: join(dir, "id_ed25519"), knownHostsFile: join(dir, "known_hosts"),
      forwards: [{ relayPort: 11081, targetHost: "127.0.0.1", targetPort: 8080 }],
      keepaliveInterval: 7, keepaliveCount: 4, preferAes: false,
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("tunnelArgs() starts with -F none so no user ssh_config applies", () => {
    assert.deepEqual(tunnelArgs(spec).slice(0, 2), ["-F", "none"]);
  });

  test("tunnelArgs() asks for -R exactly 127.0.0.1:PORT:HOST:PORT", () => {
    assert.deepEqual(valuesOf(tunnelArgs(spec), "-R"), ["127.0.0.1:11081:127.0.0.1:8080"]);
    const two = tunnelArgs({ ...spec, forwards: [
      { relayPort: 11081, targetHost: "localhost", targetPort: 3000 },
      { relayPort: 11082, targetHost: "10.0.0.5", targetPort: 443 },
    ] });
    assert.deepEqual(valuesOf(two, "-R"), ["127.0.0.1:11081:localhost:3000", "127.0.0.1:11082:10.0.0.5:443"]);
  });

  test("tunnelArgs() brackets an IPv6 target", () => {
    const args = tunnelArgs({ ...spec, forwards: [{ relayPort: 11081, targetHost: "::1", targetPort: 8080 }] });
    assert.deepEqual(valuesOf(args, "-R"), ["127.0.0.1:11081:[::1]:8080"]);
  });

  test("tunnelArgs() never passes -N, and ends with the relay host", () => {
    const args = tunnelArgs(spec);
    assert.ok(!args.includes("-N"));
    assert.ok(!args.some((a) => /^-[A-Za-z]*N/.test(a)), "no -N inside a combined flag either");
    assert.equal(args.at(-1), spec.host);
  });

  test("tunnelArgs() sets ExitOnForwardFailure=yes and the spec's keepalive", () => {
    const o = options(tunnelArgs(spec));
    assert.equal(o.get("ExitOnForwardFailure"), "yes");
    assert.equal(o.get("ServerAliveInterval"), "7");
    assert.equal(o.get("ServerAliveCountMax"), "4");
    const other = options(tunnelArgs({ ...spec, keepaliveInterval: 15, keepaliveCount: 1 }));
    assert.equal(other.get("ServerAliveInterval"), "15");
    assert.equal(other.get("ServerAliveCountMax"), "1");
  });

  test("tunnelArgs() sets Ciphers only when preferAes, with AES-GCM first", () => {
    assert.ok(!options(tunnelArgs(spec)).has("Ciphers"));
    const ciphers = options(tunnelArgs({ ...spec, preferAes: true })).get("Ciphers");
    assert.ok(ciphers?.startsWith("aes128-gcm@openssh.com,"), ciphers);
  });

  test("tunnelArgs() pins the host key in petit's own known_hosts and runs in batch mode", () => {
    const args = tunnelArgs(spec);
    const o = options(args);
    assert.equal(o.get("UserKnownHostsFile"), spec.knownHostsFile);
    assert.equal(o.get("StrictHostKeyChecking"), "yes");
    assert.equal(o.get("BatchMode"), "yes");
    assert.equal(o.get("IdentitiesOnly"), "yes");
    assert.deepEqual(valuesOf(args, "-i"), [spec.keyFile]);
    assert.deepEqual(valuesOf(args, "-p"), ["2222"]);
    assert.deepEqual(valuesOf(args, "-l"), ["petit"]);
  });

  test("tunnelArgs() output is read by ssh -G as the intended configuration", () => {
    const args = tunnelArgs({ ...spec, preferAes: true, forwards: [{ relayPort: 11081, targetHost: "::1", targetPort: 8080 }] });
    const text = execFileSync("ssh", ["-G", ...args], { encoding: "utf8" });
    const lines = text.split("\n");
    for (const line of [
      "hostname relay.example.com", "port 2222", "user petit", "exitonforwardfailure yes",
      "serveraliveinterval 7", "serveralivecountmax 4", "batchmode yes", "stricthostkeychecking true",
      "remoteforward [127.0.0.1]:11081 [::1]:8080", `identityfile ${spec.keyFile}`,
    ]) assert.ok(lines.includes(line), `ssh -G lacks "${line}"`);
    assert.ok(lines.some((l) => l.startsWith("ciphers aes128-gcm@openssh.com")));
    assert.equal(lines.filter((l) => l.startsWith("identityfile ")).length, 1, "only petit's key is offered");
  });
});
