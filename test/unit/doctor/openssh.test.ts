/**
 * parseOpenSshVersion() and isAtLeast(): reading what ssh -V and sshd -V print.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isAtLeast, parseOpenSshVersion } from "../../../lib/doctor/openssh.ts";

describe("OpenSSH versions", () => {
  test("parseOpenSshVersion() reads ssh -V and sshd -V output", () => {
    assert.deepEqual(parseOpenSshVersion("OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026"), { major: 9, minor: 2, text: "OpenSSH_9.2p1" });
    assert.deepEqual(parseOpenSshVersion("OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026"), { major: 9, minor: 2, text: "OpenSSH_9.2" });
  });

  test("parseOpenSshVersion() finds the version in an old sshd's usage text", () => {
    const usage = "sshd: illegal option -- V\nOpenSSH_7.4p1, OpenSSL 1.0.2k-fips  26 Jan 2017\nusage: sshd [-46DdeiqTt] ...";
    assert.equal(parseOpenSshVersion(usage)?.text, "OpenSSH_7.4p1");
  });

  test("parseOpenSshVersion() returns undefined for a program that is not OpenSSH", () => {
    assert.equal(parseOpenSshVersion("dropbear v2022.83"), undefined);
  });

  test("isAtLeast() accepts 7.8 and later and refuses 7.7 and earlier", () => {
    const v = (major: number, minor: number) => ({ major, minor, text: "" });
    assert.equal(isAtLeast(v(7, 8)), true);
    assert.equal(isAtLeast(v(10, 0)), true);
    assert.equal(isAtLeast(v(7, 7)), false);
    assert.equal(isAtLeast(v(6, 9)), false);
  });
});
