/**
 * Validation of a client's submitted public key. `ssh-keygen -l` alone is not
 * a validator (it accepts options, comments, DSA and multi-line input), so
 * petit checks the text itself and later writes the line in its own words.
 * @module
 */
import { createHash } from "node:crypto";
import { keyMaterialProblem } from "./key-material.ts";

/** Key types the relay accepts. DSA is left out: sshd refuses it anyway. */
export const ALLOWED_KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
] as const;

/** A public key reduced to what petit keeps: type, base64 blob, fingerprint. */
export interface PublicKey {
  type: string;
  blob: string;
  /** `SHA256:…`, as ssh-keygen -l prints it. */
  fingerprint: string;
}

/**
 * Parses `text` as exactly one public key line "TYPE BASE64 [COMMENT]".
 * Throws with the reason when it is anything else. The comment is dropped.
 * @example parsePublicKey("ssh-ed25519 AAAAC3Nza… me@laptop").type === "ssh-ed25519"
 */
export function parsePublicKey(text: unknown): PublicKey {
  if (typeof text !== "string") throw new Error("public_key must be a string");
  if (text.length > 16384) throw new Error("public_key is too long (more than 16384 characters)");
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(text.replace(/\n$/, ""))) {
    throw new Error("public_key must be a single line without control characters");
  }
  const parts = text.trim().split(/ +/);
  if (parts.length < 2) throw new Error('public_key must look like "ssh-ed25519 AAAA… [comment]"');
  const [type, blob, ...comment] = parts;
  if (!(ALLOWED_KEY_TYPES as readonly string[]).includes(type)) {
    throw new Error(
      `public_key has type "${type.slice(0, 40)}", expected one of ${ALLOWED_KEY_TYPES.join(", ")} ` +
        "(options before the key are not accepted)",
    );
  }
  if (comment.some((word) => /^(ssh-|ecdsa-|sk-)/.test(word))) {
    throw new Error("public_key must hold exactly one key (found a second key after the first)");
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob) || blob.length % 4 !== 0) {
    throw new Error("public_key's key data is not valid base64");
  }
  const bytes = Buffer.from(blob, "base64");
  const fields = readSshStrings(bytes);
  if (!fields || !wellFormed(type, fields)) {
    throw new Error(`public_key's key data does not hold a "${type}" key`);
  }
  const problem = keyMaterialProblem(type, fields);
  if (problem) throw new Error(`public_key's ${type} key ${problem}: it cannot be a real key`);
  const fingerprint = "SHA256:" + createHash("sha256").update(bytes).digest("base64").replace(/=+$/, "");
  return { type, blob, fingerprint };
}

/**
 * Tells whether `fields` (the key blob's wire-format strings) are exactly
 * what a `type` key holds: the type name, then per type the curve name and
 * point, the 32-byte ed25519 key, or RSA's e and n; security keys add their
 * application. Nothing may follow.
 */
function wellFormed(type: string, fields: Buffer[]): boolean {
  if (fields[0]?.toString("latin1") !== type) return false;
  const sk = type.startsWith("sk-") ? 1 : 0;
  if (type.includes("ed25519")) return fields.length === 2 + sk && fields[1].length === 32;
  if (type.includes("ecdsa")) {
    const curve = /nistp\d+/.exec(type)![0];
    return fields.length === 3 + sk && fields[1].toString("latin1") === curve && fields[2].length > 0;
  }
  return fields.length === 3; // ssh-rsa: e, n (their values are checked by keyMaterialProblem)
}

/** Splits an SSH wire-format blob into its strings (uint32 length + bytes); undefined when malformed. */
function readSshStrings(bytes: Buffer): Buffer[] | undefined {
  const fields: Buffer[] = [];
  for (let offset = 0; offset < bytes.length;) {
    if (bytes.length < offset + 4) return undefined;
    const length = bytes.readUInt32BE(offset);
    if (length > bytes.length - offset - 4) return undefined;
    fields.push(bytes.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return fields;
}
