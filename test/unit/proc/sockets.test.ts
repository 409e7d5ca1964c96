/**
 * The listening-socket readers the relay polls (presence, the session
 * sweeper): the kernel's /proc/net/tcp read without blocking, and the
 * process-tree walk in slices.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { descendantsOf, readDescendantsOf } from "../../../lib/proc/process.ts";
import { listeningPorts, parseLoopbackListeners, readLoopbackListeners } from "../../../lib/proc/sockets.ts";

/** Lines as the kernel writes them (tcp4_seq_show), padded to 149 characters. */
const line = (text: string) => text.padEnd(149);
const TABLE = [
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  line("   0: 0100007F:3E8A 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9560717 1 00000000f91ab054 100 0 0 10 0"),
  line("   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 000000009c389dcc 100 0 0 10 0"),
  line("   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 777 1 000000009c389dcc 20 4 30 10 -1"),
  line("  19: 0200007F:3311 0100007F:BC14 06 00000000:00000000 03:00000333 00000000     0        0 0 3 0000000032d0eb7e"),
  line("12345: 0100007F:61A9 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 4242 1 00000000f91ab054 100 0 0 10 0"),
].join("\n") + "\n";

describe("parseLoopbackListeners()", () => {
  test("parseLoopbackListeners() keeps sockets listening on 127.0.0.1 with their port and inode, also past 10,000 lines", () => {
    assert.deepEqual(parseLoopbackListeners(Buffer.from(TABLE)), [{ port: 0x3e8a, inode: "9560717" }, { port: 0x61a9, inode: "4242" }]);
  });

  test("parseLoopbackListeners() skips other addresses, other states, and a table cut short", () => {
    assert.deepEqual(parseLoopbackListeners(Buffer.from(TABLE.split("\n").slice(0, 5).join("\n"))), [{ port: 0x3e8a, inode: "9560717" }]);
    assert.deepEqual(parseLoopbackListeners(Buffer.from("")), []);
    assert.deepEqual(parseLoopbackListeners(Buffer.from("  sl  local_address\n   0: 0100007F:3E8A")), []);
  });
});

describe("readLoopbackListeners()", () => {
  test("readLoopbackListeners() sees a port this process listens on, and agrees with the blocking reader", async () => {
    const server = createServer().listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as { port: number };
    try {
      const ports = (await readLoopbackListeners()).map((l) => l.port);
      assert.ok(ports.includes(port), `port ${port} should be listed`);
      assert.ok(listeningPorts().has(port));
    } finally {
      server.close();
    }
    await once(server, "close");
    assert.ok(!(await readLoopbackListeners()).some((l) => l.port === port), "a closed port is gone");
  });
});

describe("readDescendantsOf()", () => {
  test("readDescendantsOf() finds a process's children and grandchildren, as descendantsOf() does", async () => {
    const parent = spawn("sh", ["-c", "sh -c 'sleep 30' & sleep 30 & echo ready; wait"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      await once(parent.stdout!, "data");
      let found: number[] = [];
      // The inner shell may still be starting its sleep: three descendants once it has.
      for (let i = 0; i < 100 && found.length < 3; i++) {
        found = await readDescendantsOf(parent.pid!);
        if (found.length < 3) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(found.length, 3, `descendants of ${parent.pid}: ${found.join(", ")}`);
      assert.deepEqual([...found].sort(), [...descendantsOf(parent.pid!)].sort());
      assert.ok(!found.includes(parent.pid!));
    } finally {
      for (const pid of descendantsOf(parent.pid!)) process.kill(pid, "SIGKILL");
      parent.kill("SIGKILL");
    }
  });
});
