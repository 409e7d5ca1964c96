/**
 * The CLI's own surface through the real entry point: help texts, the
 * version, and how configuration problems are reported. No relay needed.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeHome, petit, ROOT } from "../helpers/petit.ts";

const packageVersion = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

describe("the petit CLI", () => {
  const home = makeHome("cli-usage");
  after(() => home.remove());

  test("petit --help and every command's --help name option values instead of #0", async () => {
    const overview = await petit(home.dir, ["--help"]);
    assert.equal(overview.exitCode, 0);
    assert.doesNotMatch(String(overview.stdout), /#\d/);
    assert.match(String(overview.stdout), /petit server init \[--config FILE\] <--domain DOMAIN>/);
    // Each command's path: the words after "petit " up to its first option or argument.
    const paths = [...String(overview.stdout).matchAll(/^ {2}petit ((?:[a-z-]+ ?)+)(?=[[<\n]|$)/gm)].map((m) => m[1].trim().split(" "));
    assert.ok(paths.length >= 20, `found ${paths.length} commands in:\n${overview.stdout}`);
    for (const path of paths) {
      const help = await petit(home.dir, [...path, "--help"]);
      assert.equal(help.exitCode, 0, path.join(" "));
      assert.doesNotMatch(String(help.stdout), /#\d/, `petit ${path.join(" ")} --help`);
    }
    const connect = String((await petit(home.dir, ["connect", "--help"])).stdout);
    assert.match(connect, /--listen HOST:PORT/);
    assert.match(connect, /--relay URL/);
  });

  test("an unknown option is a usage error whose usage line names the values", async () => {
    const result = await petit(home.dir, ["register", "--bogus"]);
    assert.equal(result.exitCode, 1);
    assert.match(String(result.stderr), /Unsupported option name \("--bogus"\)/);
    assert.match(String(result.stderr), /--to HOST:PORT/);
    assert.doesNotMatch(String(result.stderr), /#\d/);
  });

  test("petit version and petit --version print the version in package.json", async () => {
    for (const args of [["version"], ["--version"]]) {
      const result = await petit(home.dir, args);
      assert.equal(result.exitCode, 0, args.join(" "));
      assert.equal(String(result.stdout).trim(), packageVersion, args.join(" "));
    }
  });

  test("petit status --json without a configured client prints the unconfigured state as JSON and exits 3", async () => {
    const result = await petit(home.dir, ["status", "--json"]);
    assert.equal(result.exitCode, 3, String(result.stderr));
    const status = JSON.parse(String(result.stdout)) as { state: string; config: string; message: string };
    assert.equal(status.state, "unconfigured");
    assert.equal(status.config, join(home.dir, "config.toml"));
    assert.match(status.message, /petit register/);
    assert.equal(String(result.stderr), "");
    const plain = await petit(home.dir, ["status"]);
    assert.equal(plain.exitCode, 3);
    assert.match(String(plain.stdout), /^state: +unconfigured/);
  });

  test("a command needing a section the config lacks says so as an Error, not a Usage Error, and exits 1", async () => {
    const result = await petit(home.dir, ["server", "clients"]);
    assert.equal(result.exitCode, 1);
    assert.match(String(result.stderr), /^Error: No \[server\] section in ".*config\.toml": run "petit server init --domain DOMAIN" first$/);
  });

  test("a config petit cannot parse is reported as an Error naming the file and line, with exit 1", async () => {
    const bad = makeHome("cli-usage-bad");
    try {
      writeFileSync(join(bad.dir, "config.toml"), "not toml\n", { mode: 0o600 });
      for (const args of [["status", "--json"], ["up"]]) {
        const result = await petit(bad.dir, args);
        assert.equal(result.exitCode, 1, args.join(" "));
        assert.equal(String(result.stdout), "", args.join(" "));
        assert.match(String(result.stderr), /^Error: Cannot parse config ".*config\.toml": line 1 \("not toml"\)/, args.join(" "));
        assert.doesNotMatch(String(result.stderr), /Usage Error|\$ petit/, args.join(" "));
      }
    } finally {
      bad.remove();
    }
  });

  test("petit server init --acme-email writes [server.acme] and announces https:// URLs; bad ACME flags are usage errors naming the flag", async () => {
    const relay = makeHome("cli-usage-acme");
    try {
      const init = (extra: string[]) => petit(relay.dir, ["server", "init", "--domain", "relay.example.com", ...extra]);
      const ok = await init(["--acme-email", "ops@example.com", "--https-port", "8443"]);
      assert.equal(ok.exitCode, 0, String(ok.stderr));
      assert.match(String(ok.stdout), /clients reach their services at https:\/\/<id>\.relay\.example\.com:8443\//);
      assert.match(String(ok.stdout), /petit register https:\/\/relay\.example\.com:3014/);
      const toml = readFileSync(join(relay.dir, "config.toml"), "utf8");
      assert.match(toml, /\[server\.acme\]\nemail = "ops@example\.com"\ndirectory = "https:\/\/acme-v02\.api\.letsencrypt\.org\/directory"/);
      // Run again without ACME flags: the settings stay.
      assert.equal((await init([])).exitCode, 0);
      assert.match(readFileSync(join(relay.dir, "config.toml"), "utf8"), /\[server\.acme\]/);

      const bad = await init(["--acme-email", "ops"]);
      assert.equal(bad.exitCode, 1);
      assert.match(`${bad.stdout}${bad.stderr}`, /Cannot use server\.acme\.email "ops": expected an e-mail address/);
      const alpn = await init(["--acme-challenge", "tls-alpn-01"]);
      assert.equal(alpn.exitCode, 0, String(alpn.stderr));
      assert.match(String(alpn.stdout), /TLS-ALPN-01 on port 8443, which must be reachable from the internet/);
      assert.match(readFileSync(join(relay.dir, "config.toml"), "utf8"), /\nchallenge = "tls-alpn-01"\n/);
      const badChallenge = await init(["--acme-challenge", "tls-alpn"]);
      assert.equal(badChallenge.exitCode, 1);
      assert.match(`${badChallenge.stdout}${badChallenge.stderr}`, /Cannot use server\.acme\.challenge "tls-alpn": expected one of "http-01", "tls-alpn-01"/);
      const fresh = makeHome("cli-usage-acme-fresh");
      try {
        const lone = await petit(fresh.dir, ["server", "init", "--domain", "relay.example.com", "--acme-directory", "https://acme.example.com/dir"]);
        assert.equal(lone.exitCode, 1);
        assert.match(`${lone.stdout}${lone.stderr}`, /--acme-directory, --acme-ca-file, --acme-dns-hook and --acme-challenge need --acme-email/);
      } finally {
        fresh.remove();
      }
    } finally {
      relay.remove();
    }
  });
});
