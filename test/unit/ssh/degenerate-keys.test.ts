/**
 * parsePublicKey() refuses keys that are well-formed on the wire but could
 * not come from ssh-keygen: degenerate ed25519 points, RSA moduli and
 * exponents, malformed or off-curve ECDSA points. Real keys still pass.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePublicKey } from "../../../lib/ssh/public-key.ts";
import { sshBlob, sshKeygen } from "../ssh-keys.ts";

/** A key line of `type` whose blob holds `fields` after the type name. */
const line = (type: string, ...fields: (string | Buffer)[]) => `${type} ${sshBlob(type, ...fields).toString("base64")}`;

/** An ed25519 key line whose point is the 32 little-endian bytes of `y` (with the sign bit `sign`). */
function ed25519Y(y: bigint, sign = 0): string {
  const bytes = Buffer.from(y.toString(16).padStart(64, "0"), "hex").reverse();
  bytes[31] |= sign << 7;
  return line("ssh-ed25519", bytes);
}

const P = (1n << 255n) - 19n;
const Y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022n;

/** A real RSA key's e and n (as SSH mpints), made in-process. */
function rsaParts(bits: number): { e: Buffer; n: Buffer } {
  const jwk = generateKeyPairSync("rsa", { modulusLength: bits }).publicKey.export({ format: "jwk" });
  const mpint = (b64: string) => {
    const raw = Buffer.from(b64, "base64url");
    return raw[0] & 0x80 ? Buffer.concat([Buffer.alloc(1), raw]) : raw;
  };
  return { e: mpint(jwk.e!), n: mpint(jwk.n!) };
}

describe("degenerate public keys", () => {
  let dir: string;
  const rsa = rsaParts(2048);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "petit-degenerate-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("parsePublicKey() refuses an all-zero ed25519 key", () => {
    assert.throws(() => parsePublicKey(line("ssh-ed25519", Buffer.alloc(32))), /ssh-ed25519 key is all zeros: it cannot be a real key/);
  });

  test("parsePublicKey() refuses the ed25519 identity point, also with the sign bit set", () => {
    assert.throws(() => parsePublicKey(ed25519Y(1n)), /is the identity point/);
    assert.throws(() => parsePublicKey(ed25519Y(1n, 1)), /is the identity point/);
  });

  test("parsePublicKey() refuses every ed25519 point of order 2, 4 or 8", () => {
    for (const y of [P - 1n, Y8, P - Y8]) {
      for (const sign of [0, 1]) assert.throws(() => parsePublicKey(ed25519Y(y, sign)), /is a point of small order/, `y = ${y}`);
    }
    assert.throws(() => parsePublicKey(ed25519Y(0n, 1)), /is a point of small order/);
  });

  test("parsePublicKey() refuses a non-canonical ed25519 encoding (y ≥ p)", () => {
    assert.throws(() => parsePublicKey(ed25519Y(P)), /not a canonical point encoding/);
    assert.throws(() => parsePublicKey(ed25519Y(P + 1n)), /not a canonical point encoding/);
  });

  test("parsePublicKey() refuses an sk-ssh-ed25519 key with an all-zero point", () => {
    assert.throws(() => parsePublicKey(line("sk-ssh-ed25519@openssh.com", Buffer.alloc(32), "ssh:")), /all zeros/);
  });

  test("parsePublicKey() refuses an RSA key with n = 0, as an empty mpint or as 256 zero bytes", () => {
    assert.throws(() => parsePublicKey(line("ssh-rsa", rsa.e, Buffer.alloc(0))), /ssh-rsa key has a modulus n of 0/);
    assert.throws(() => parsePublicKey(line("ssh-rsa", rsa.e, Buffer.alloc(256))), /has a modulus n of 0/);
  });

  test("parsePublicKey() refuses an RSA key with an even modulus", () => {
    const even = Buffer.from(rsa.n);
    even[even.length - 1] &= 0xfe;
    assert.throws(() => parsePublicKey(line("ssh-rsa", rsa.e, even)), /has an even modulus n/);
  });

  test("parsePublicKey() refuses an RSA modulus shorter than 2048 bits, naming its size", () => {
    const short = rsaParts(1024);
    assert.throws(() => parsePublicKey(line("ssh-rsa", short.e, short.n)), /has a 1024-bit modulus, shorter than 2048 bits/);
  });

  test("parsePublicKey() refuses a negative RSA modulus", () => {
    assert.throws(() => parsePublicKey(line("ssh-rsa", rsa.e, rsa.n.subarray(1))), /negative modulus/);
  });

  test("parsePublicKey() refuses an RSA exponent that is even or below 3", () => {
    for (const e of [Buffer.alloc(0), Buffer.from([1]), Buffer.from([2]), Buffer.from([0x01, 0x00, 0x00])]) {
      assert.throws(() => parsePublicKey(line("ssh-rsa", e, rsa.n)), /expected an odd number ≥ 3/, e.toString("hex"));
    }
  });

  test("parsePublicKey() refuses an ECDSA point that is compressed, of the wrong length or not on the curve", () => {
    const real = Buffer.from(sshKeygen(dir, "ecdsa", 256).line.split(" ")[1], "base64");
    const point = real.subarray(real.length - 65);
    assert.equal(point[0], 4);
    const compressed = Buffer.concat([Buffer.from([2 + (point[64] & 1)]), point.subarray(1, 33)]);
    assert.throws(() => parsePublicKey(line("ecdsa-sha2-nistp256", "nistp256", compressed)), /no uncompressed nistp256 point .*got 33 bytes starting 0x0[23]/);
    assert.throws(() => parsePublicKey(line("ecdsa-sha2-nistp256", "nistp256", point.subarray(0, 64))), /no uncompressed nistp256 point/);
    assert.throws(() => parsePublicKey(line("ecdsa-sha2-nistp384", "nistp384", point)), /no uncompressed nistp384 point/);
    const offCurve = Buffer.from(point);
    offCurve[64] ^= 1;
    assert.throws(() => parsePublicKey(line("ecdsa-sha2-nistp256", "nistp256", offCurve)), /not on the curve nistp256/);
    assert.throws(() => parsePublicKey(line("ecdsa-sha2-nistp256", "nistp256", Buffer.concat([Buffer.from([4]), Buffer.alloc(64)]))), /not on the curve/);
  });

  test("parsePublicKey() still accepts real RSA keys of 2048 bits and more", () => {
    assert.equal(parsePublicKey(line("ssh-rsa", rsa.e, rsa.n)).type, "ssh-rsa");
    assert.equal(parsePublicKey(sshKeygen(dir, "rsa", 2048).line).type, "ssh-rsa");
  });
});
