/**
 * readConfig() and writeSection(): refusals name the file and the key;
 * defaults fill what is left out; writing one role keeps the other.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, configPath, readConfig, writeSection } from "../../../lib/config/file.ts";
import { clientFields, serverFields, type ClientConfig, type ServerConfig } from "../../../lib/config/schema.ts";
import {
  ACME_RENEW_BEFORE_DAYS, DEFAULT_HTTPS_PORT, LETS_ENCRYPT_DIRECTORY,
  DEFAULT_API_PORT, DEFAULT_HTTP_PORT, DEFAULT_PORT_RANGE, DEFAULT_SSH_PORT, DEFAULT_TARGET,
  SERVER_ALIVE_COUNT_MAX, SERVER_ALIVE_INTERVAL,
} from "../../../lib/constants.ts";

const CLIENT_REQUIRED = `relay = "http://relay.example.com:3014"
id = 1001
port = 11000
ssh_host = "relay.example.com"
ssh_port = 2222
ssh_user = "petit"
`;

describe("config file", () => {
  let dir: string;
  let n = 0;
  /** Writes `text` to a new config file and returns its path. */
  const file = (text: string): string => {
    const path = join(dir, `config-${++n}.toml`);
    writeFileSync(path, text);
    return path;
  };
  /** Asserts readConfig(path) throws a ConfigError naming the file and every fragment. */
  const refuses = (path: string, ...fragments: string[]): void => {
    assert.throws(() => readConfig(path), (error: Error) => {
      assert.ok(error instanceof ConfigError, `${error.name}: ${error.message}`);
      assert.ok(error.message.includes(`"${path}"`), error.message);
      for (const f of fragments) assert.ok(error.message.includes(f), `${error.message} lacks ${f}`);
      return true;
    });
  };

  before(() => (dir = mkdtempSync(join(tmpdir(), "petit-config-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("configPath() uses the override, else config.toml in the home folder", () => {
    assert.equal(configPath("/home/me/.petit"), join("/home/me/.petit", "config.toml"));
    assert.equal(configPath("/home/me/.petit", "/etc/petit.toml"), "/etc/petit.toml");
  });

  test("readConfig() returns an empty config for a missing file", () => {
    assert.deepEqual(readConfig(join(dir, "absent.toml")), {});
  });

  test("readConfig() fills the server defaults around a required domain", () => {
    const { server, client } = readConfig(file('[server]\ndomain = "relay.example.com"\n'));
    assert.equal(client, undefined);
    assert.equal(server?.domain, "relay.example.com");
    assert.equal(server?.http_port, DEFAULT_HTTP_PORT);
    assert.equal(server?.api_port, DEFAULT_API_PORT);
    assert.equal(server?.ssh_port, DEFAULT_SSH_PORT);
    assert.equal(server?.port_range, `${DEFAULT_PORT_RANGE.first}-${DEFAULT_PORT_RANGE.last}`);
    assert.deepEqual(Object.keys(server!).sort(), Object.keys(serverFields).sort());
  });

  test("readConfig() fills the client defaults and keeps given values", () => {
    assert.notEqual(SERVER_ALIVE_INTERVAL, 9, "the given value must differ from the default to be seen");
    const { client } = readConfig(file(`[client]\n${CLIENT_REQUIRED}keepalive_interval = 9\n`));
    assert.equal(client?.id, 1001);
    assert.equal(client?.keepalive_interval, 9);
    assert.equal(client?.keepalive_count, SERVER_ALIVE_COUNT_MAX);
    assert.equal(client?.target, DEFAULT_TARGET);
    assert.equal(client?.ssh_path, "ssh");
    assert.deepEqual(Object.keys(client!).sort(), Object.keys(clientFields).sort());
  });

  test("readConfig() refuses an unknown key, naming it", () => {
    refuses(file('[server]\ndomain = "relay.example.com"\nhtpp_port = 80\n'), '"server.htpp_port"', "unknown key");
  });

  test("readConfig() refuses an unknown section, naming it", () => {
    refuses(file('[servre]\ndomain = "x"\n'), '"servre"', "unknown section");
    refuses(file('domain = "relay.example.com"\n'), '"domain"', "unknown section");
  });

  test("readConfig() refuses a section that is not a table", () => {
    refuses(file("server = 5\n"), '"server"', "must be a table");
  });

  test("readConfig() refuses a value of the wrong type, naming the key and what is expected", () => {
    const base = '[server]\ndomain = "relay.example.com"\n';
    refuses(file(`${base}http_port = "80"\n`), '"server.http_port"', '"80"', "port number");
    refuses(file(`${base}api_port = 70000\n`), '"server.api_port"', "70000");
    refuses(file(`${base}port_range = "12000-11000"\n`), '"server.port_range"', "FIRST-LAST");
    refuses(file("[server]\ndomain = 5\n"), '"server.domain"', "DNS name");
    refuses(file(`[client]\n${CLIENT_REQUIRED}keepalive_count = 0\n`), '"client.keepalive_count"', "whole number from 1");
    refuses(file(`[client]\n${CLIENT_REQUIRED}up_timeout = 1.5\n`), '"client.up_timeout"', "1.5");
    refuses(file(`[client]\n${CLIENT_REQUIRED.replace("1001", "0")}`), '"client.id"');
    refuses(file(`[client]\n${CLIENT_REQUIRED.replace("http://", "ftp://")}`), '"client.relay"', "URL");
    refuses(file(`[client]\n${CLIENT_REQUIRED}target = "8080"\n`), '"client.target"', "HOST:PORT");
  });

  test("readConfig() refuses a config missing a required key, naming it", () => {
    refuses(file("[server]\nhttp_port = 80\n"), '"server.domain" is missing');
    for (const key of ["relay", "id", "port", "ssh_host", "ssh_port", "ssh_user"]) {
      const text = CLIENT_REQUIRED.split("\n").filter((l) => !l.startsWith(`${key} =`)).join("\n");
      refuses(file(`[client]\n${text}`), `"client.${key}" is missing`);
    }
  });

  test("readConfig() refuses an empty server.domain", () => {
    refuses(file('[server]\ndomain = ""\n'), '"server.domain"');
  });

  test("readConfig() refuses bad TOML, naming the file and keeping the cause", () => {
    const path = file('[server]\ndomain = "relay.example.com\n');
    refuses(path, "Cannot parse config");
    assert.throws(() => readConfig(path), (error: Error) => error.cause !== undefined);
    refuses(file("[server\n"), "Cannot parse config");
    refuses(file('[server]\ndomain = "a"\ndomain = "b"\n'), "Cannot parse config");
  });

  test("readConfig() reads [server.acme] with its defaults, and leaves it out when absent", () => {
    const { server } = readConfig(file('[server]\ndomain = "relay.example.com"\n\n[server.acme]\nemail = "ops@example.com"\n'));
    assert.deepEqual(server?.acme, {
      email: "ops@example.com", directory: LETS_ENCRYPT_DIRECTORY, ca_file: "", renew_before_days: ACME_RENEW_BEFORE_DAYS, check_interval: 43_200, dns_hook: "", challenge: "http-01",
    });
    assert.equal(server?.https_port, DEFAULT_HTTPS_PORT);
    assert.equal(readConfig(file('[server]\ndomain = "relay.example.com"\n')).server?.acme, undefined);
  });

  test("readConfig() refuses an unknown or bad key in [server.acme], naming it", () => {
    const base = '[server]\ndomain = "relay.example.com"\n\n[server.acme]\n';
    refuses(file(`${base}email = "ops@example.com"\nemial = "x"\n`), '"server.acme.emial"', "unknown key", "known keys: email, directory");
    refuses(file(`${base}email = "ops"\n`), '"server.acme.email"', '"ops"', "e-mail address");
    refuses(file(`${base}email = "ops@example.com"\ndirectory = "acme.example.com"\n`), '"server.acme.directory"', "URL");
    refuses(file(`${base}email = "ops@example.com"\nrenew_before_days = 0\n`), '"server.acme.renew_before_days"', "whole number from 1");
    refuses(file(`${base}directory = "https://acme.example.com/dir"\n`), '"server.acme.email" is missing');
    refuses(file('[server]\ndomain = "relay.example.com"\nacme = 5\n'), '"server.acme" must be a table');
  });

  test("readConfig() refuses [server.acme] together with server.tls_cert", () => {
    const text = '[server]\ndomain = "relay.example.com"\ntls_cert = "/etc/c.pem"\ntls_key = "/etc/k.pem"\n\n[server.acme]\nemail = "ops@example.com"\n';
    refuses(file(text), "[server.acme]", '"server.tls_cert"', "exclude each other");
  });

  test("writeSection() writes [server.acme] as a sub-table readConfig reads back", () => {
    const path = join(dir, "written-acme.toml");
    const server = readConfig(file('[server]\ndomain = "relay.example.com"\n\n[server.acme]\nemail = "ops@example.com"\n')).server!;
    writeSection(path, "server", { ...server, https_port: 8443 });
    assert.match(readFileSync(path, "utf8"), /^\[server\.acme\]$/m);
    assert.deepEqual(readConfig(path).server, { ...server, https_port: 8443 });
  });

  test("writeSection() writes a section readConfig reads back, mode 0600", () => {
    const path = join(dir, "written.toml");
    const server = { ...readConfig(file('[server]\ndomain = "relay.example.com"\n')).server!, http_port: 8080 };
    writeSection(path, "server", server);
    assert.deepEqual(readConfig(path).server, server);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test("writeSection() keeps the other section", () => {
    const path = file('[server]\ndomain = "relay.example.com"\nhttp_port = 8081\n');
    const server = readConfig(path).server as ServerConfig;
    const client = readConfig(file(`[client]\n${CLIENT_REQUIRED}`)).client as ClientConfig;
    writeSection(path, "client", client);
    const both = readConfig(path);
    assert.deepEqual(both.server, server);
    assert.deepEqual(both.client, client);
    writeSection(path, "server", { ...server, http_port: 9090 });
    assert.deepEqual(readConfig(path).client, client);
    assert.equal(readConfig(path).server?.http_port, 9090);
    assert.ok(readFileSync(path, "utf8").includes("[client]"));
  });
});
