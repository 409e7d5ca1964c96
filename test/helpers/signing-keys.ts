/**
 * ed25519 client keys made in-process, which can sign a registration the way
 * `petit register` does (an SSHSIG signature, as `ssh-keygen -Y sign` makes)
 * without a private key file or a process per key. The relay checks these
 * with the real `ssh-keygen -Y verify`, so every use is also a check that
 * the format is right.
 * @module
 */
import { createHash, createPrivateKey, randomBytes, sign, type KeyObject } from "node:crypto";
import { PROOF_HEADER, SIGNATURE_HEADER } from "../../lib/constants.ts";
import { makeProof } from "../../lib/proof.ts";
import type { SignatureNamespace } from "../../lib/ssh/signature.ts";

/** PKCS#8 DER of an ed25519 private key, less its last 32 bytes (the seed). */
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** Keys made here, by their public key line, so a registration body's key can be signed with its private half. */
const made = new Map<string, KeyObject>();

/** Returns an SSH wire string (uint32 length, bytes) of each part, concatenated. */
function wire(...parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(parts.map((p) => {
    const bytes = typeof p === "string" ? Buffer.from(p) : p;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  }));
}

/** Returns a fresh ed25519 public key line ("ssh-ed25519 BASE64"); `seed` (32 bytes) makes it repeatable. */
export function signingKeyLine(seed: Buffer = randomBytes(32)): string {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
  const raw = Buffer.from(privateKey.export({ format: "jwk" }).x!, "base64url");
  const line = `ssh-ed25519 ${wire("ssh-ed25519", raw).toString("base64")}`;
  made.set(line, privateKey);
  return line;
}

/** Returns the SSHSIG signature (base64 of the armored text, as the relay reads it) of `data` by key `line`. */
export function signAs(line: string, namespace: SignatureNamespace, data: string): string {
  const privateKey = made.get(line);
  if (!privateKey) throw new Error(`no private key was made here for ${line.slice(0, 40)}…`);
  const publicBlob = Buffer.from(line.split(" ")[1], "base64");
  const digest = createHash("sha512").update(data).digest();
  const signed = Buffer.concat([Buffer.from("SSHSIG"), wire(namespace, "", "sha512", digest)]);
  const signature = wire("ssh-ed25519", sign(null, signed, privateKey));
  const version = Buffer.alloc(4);
  version.writeUInt32BE(1);
  const blob = Buffer.concat([Buffer.from("SSHSIG"), version, wire(publicBlob, namespace, "", "sha512", signature)]);
  const base64 = blob.toString("base64").match(/.{1,70}/g)!.join("\n");
  return Buffer.from(`-----BEGIN SSH SIGNATURE-----\n${base64}\n-----END SSH SIGNATURE-----\n`).toString("base64");
}

/**
 * Returns the headers `petit register` would send with `body`: the proof of
 * `token`, and — when the body's public_key was made here — its signature.
 * `proof` replaces the proof (null: none).
 */
export function registrationHeaders(token: string, body: string, proof?: string | null): Record<string, string> {
  const header = proof === undefined ? makeProof(token, body) : proof;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (header !== null) headers[PROOF_HEADER] = header;
  const signature = registrationSignature(body, header ?? "");
  if (signature) headers[SIGNATURE_HEADER] = signature;
  return headers;
}

/** The signature `petit register` would send with `body` and `proof`, when the body's public_key was made here. */
export function registrationSignature(body: string, proof: string): string | undefined {
  let key: unknown;
  try {
    key = (JSON.parse(body) as { public_key?: unknown }).public_key;
  } catch {
    return undefined; // not JSON: nothing to sign with
  }
  return typeof key === "string" && made.has(key) ? signAs(key, "register@petit", `${proof}\n${body}`) : undefined;
}
