/**
 * Refusing degenerate public keys: blobs that are well-formed on the wire but
 * hold a key nobody could have made with ssh-keygen — an all-zero or
 * small-order ed25519 point, an RSA modulus of 0, an even or short modulus,
 * an even or tiny exponent, an ECDSA point that is not an uncompressed point
 * on its curve. Some such keys let a signature verify for anyone.
 * @module
 */
import { createPublicKey } from "node:crypto";

/** RSA moduli shorter than this are refused (ssh-keygen has made 3072-bit keys by default since OpenSSH 8.0). */
export const MIN_RSA_BITS = 2048;

/** The field prime of Curve25519, 2^255 − 19. */
const P25519 = (1n << 255n) - 19n;

/** y of the two ed25519 points of order 8 (libsodium's small-order list); the others are y = 0, 1 and p − 1. */
const Y_ORDER_8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022n;

/** y-coordinates of every ed25519 point of small order (1, 2, 4 or 8). */
const SMALL_ORDER_Y = new Set([0n, 1n, P25519 - 1n, Y_ORDER_8, P25519 - Y_ORDER_8]);

/** Bytes of X (and of Y) in an uncompressed point, and the JWK name, per curve. */
const CURVES: Record<string, { bytes: number; jwk: string }> = {
  nistp256: { bytes: 32, jwk: "P-256" },
  nistp384: { bytes: 48, jwk: "P-384" },
  nistp521: { bytes: 66, jwk: "P-521" },
};

/**
 * Returns why the key in `fields` (the blob's wire-format strings, already
 * checked to have the shape of a `type` key) is degenerate, or undefined.
 */
export function keyMaterialProblem(type: string, fields: Buffer[]): string | undefined {
  if (type.includes("ed25519")) return ed25519Problem(fields[1]);
  if (type.includes("ecdsa")) return ecdsaProblem(fields[1].toString("latin1"), fields[2]);
  return rsaProblem(fields[1], fields[2]);
}

/** Returns why the 32-byte ed25519 public key `point` is degenerate, or undefined when it is not. */
export function ed25519Problem(point: Buffer): string | undefined {
  if (point.every((byte) => byte === 0)) return "is all zeros";
  const y = BigInt(`0x${Buffer.from(point).reverse().toString("hex")}`) & ((1n << 255n) - 1n);
  if (y >= P25519) return "is not a canonical point encoding";
  if (SMALL_ORDER_Y.has(y)) return y === 1n ? "is the identity point" : "is a point of small order";
  return undefined;
}

/** Returns why RSA's exponent `e` and modulus `n` (SSH mpints) are degenerate, or undefined when they are not. */
export function rsaProblem(e: Buffer, n: Buffer): string | undefined {
  const eValue = mpint(e);
  const nValue = mpint(n);
  if (eValue === undefined) return "has a negative exponent e";
  if (nValue === undefined) return "has a negative modulus n";
  if (nValue === 0n) return "has a modulus n of 0";
  if ((nValue & 1n) === 0n) return "has an even modulus n";
  const bits = nValue.toString(2).length;
  if (bits < MIN_RSA_BITS) return `has a ${bits}-bit modulus, shorter than ${MIN_RSA_BITS} bits (make a new key: ssh-keygen -t ed25519)`;
  if (eValue < 3n || (eValue & 1n) === 0n) return `has the exponent e = ${eValue < 1n << 64n ? eValue : "…"}, expected an odd number ≥ 3`;
  return undefined;
}

/** Returns why `point` is not an uncompressed point on `curve` ("nistp256" …), or undefined when it is. */
export function ecdsaProblem(curve: string, point: Buffer): string | undefined {
  const spec = CURVES[curve];
  if (!spec) return `names the unknown curve "${curve.slice(0, 20)}"`;
  if (point[0] !== 0x04 || point.length !== 1 + 2 * spec.bytes) {
    return `holds no uncompressed ${curve} point (expected 0x04 and ${2 * spec.bytes} bytes, got ${point.length} bytes starting 0x${(point[0] ?? 0).toString(16).padStart(2, "0")})`;
  }
  const x = point.subarray(1, 1 + spec.bytes).toString("base64url");
  const y = point.subarray(1 + spec.bytes).toString("base64url");
  try {
    // OpenSSL checks the point lies on the curve when it imports it.
    createPublicKey({ key: { kty: "EC", crv: spec.jwk, x, y }, format: "jwk" });
  } catch {
    return `holds a point that is not on the curve ${curve}`;
  }
  return undefined;
}

/** Reads an SSH mpint as a number; undefined when negative. Leading zero bytes are skipped, as sshd skips them. */
function mpint(bytes: Buffer): bigint | undefined {
  if (bytes.length === 0) return 0n;
  if (bytes[0] & 0x80) return undefined;
  return BigInt(`0x${bytes.toString("hex")}`);
}
