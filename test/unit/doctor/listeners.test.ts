/**
 * parseProcNetTcp() and addressesClash(): reading listening sockets from
 * /proc/net/tcp{,6} and telling which ones are in a server's way.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { addressesClash, normalizeAddress, parseProcNetTcp } from "../../../lib/doctor/listeners.ts";

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BC6 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 100 0 0 10 0
   2: 0100007F:0BC6 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 3333 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:2328 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6666 1 0000000000000000 100 0 0 10 0
`;

describe("listening sockets", () => {
  test("parseProcNetTcp() keeps LISTEN sockets with their address, port and inode", () => {
    assert.deepEqual(parseProcNetTcp(TCP, false), [
      { address: "127.0.0.1", port: 3014, inode: "1111" },
      { address: "0.0.0.0", port: 80, inode: "2222" },
    ]);
  });

  test("parseProcNetTcp() reads IPv6 wildcard, loopback and IPv4-mapped addresses", () => {
    assert.deepEqual(parseProcNetTcp(TCP6, true), [
      { address: "::", port: 8080, inode: "4444" },
      { address: "::1", port: 22, inode: "5555" },
      { address: "127.0.0.1", port: 9000, inode: "6666" },
    ]);
  });

  test("addressesClash() is true for the same address or a wildcard on either side", () => {
    assert.equal(addressesClash("127.0.0.1", "127.0.0.1"), true);
    assert.equal(addressesClash("0.0.0.0", "127.0.0.1"), true);
    assert.equal(addressesClash("127.0.0.1", "::"), true);
    assert.equal(addressesClash("0:0:0:0:0:0:0:1", "::1"), true);
    assert.equal(addressesClash("127.0.0.1", "10.0.0.5"), false);
    assert.equal(normalizeAddress("[::1]"), "::1");
  });
});
