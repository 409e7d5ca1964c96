/**
 * The whole flow under each runtime petit ships for: the bundle on plain
 * node, tsx on the sources, and Deno. The daemons re-spawn the CLI the way
 * it was started, so they must run under the same runtime.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { commandLine, readPidFile } from "../../lib/proc/process.ts";
import { startOrigin } from "../helpers/origin.ts";
import type { Runtime } from "../helpers/petit.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, type Client, type Relay } from "../helpers/fixture.ts";

const RUNTIMES: { runtime: Runtime; label: string; daemonArgv: RegExp }[] = [
  { runtime: "deno", label: "Deno", daemonArgv: /(^|\/)deno\0run\0-A\0--config\0.*\/deno\.json\0.*\/cli\.ts\0/ },
  { runtime: "tsx", label: "tsx on node", daemonArgv: /(^|\/)node\0.*tsx.*\/cli\.ts\0/ },
  { runtime: "bundle", label: "the bundle on node", daemonArgv: /(^|\/)node\0.*\/dist\/petit\.mjs\0/ },
];

describe("runtimes", () => {
  for (const { runtime, label, daemonArgv } of RUNTIMES) {
    test(`register, up and a proxied GET work when petit runs under ${label}`, async () => {
      const origin = await startOrigin(`${runtime}-origin`);
      let relay: Relay | undefined;
      let client: Client | undefined;
      try {
        relay = await startRelay({ runtime });
        client = await registerClient(relay, { name: `via-${runtime}`, target: `127.0.0.1:${origin.port}`, runtime });
        await client.up();

        // The daemons were started by the CLI re-spawning itself: same runtime.
        for (const pidFile of [join(relay.home, "server/serverd.pid"), join(client.home, "client/clientd.pid")]) {
          const pid = readPidFile(pidFile);
          assert.ok(pid, `no live process in ${pidFile}`);
          const argv = commandLine(pid)?.join("\0") + "\0";
          assert.match(argv, daemonArgv, `${pidFile}: ${argv.replaceAll("\0", " ")}`);
        }

        const host = `${client.id}.${DOMAIN}`;
        const up = await viaProxy(relay, host, "/via");
        assert.equal(up.status, 200);
        assert.equal(JSON.parse(up.text).name, `${runtime}-origin`);
        assert.equal(JSON.parse(up.text).url, "/via");

        await client.down();
        const down = await viaProxy(relay, host);
        assert.equal(down.status, 502);
        assert.equal(down.text, `petit: tunnel ${client.id} is not connected\n`);
      } finally {
        await client?.stop();
        await relay?.stop();
        await origin.close();
      }
    });
  }
});
