/**
 * Proof of possession of a client's private key: an SSH signature
 * (`ssh-keygen -Y sign`, the SSHSIG format) over a request, checked on the
 * relay with `ssh-keygen -Y verify` against the key it has on record. The
 * enrollment token says "this client may enrol"; the signature says "this
 * request comes from whoever holds that key" — a public key alone, which is
 * no secret, is not enough to act as a client.
 * @module
 */
import { execa } from "execa";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PublicKey } from "./public-key.ts";

/** What a signature is for: a signature made for one purpose is refused for another. */
export type SignatureNamespace = "register@petit" | "release-port@petit" | "relays@petit" | "petit-relays";

/** The longest signature header the relay reads (an RSA-4096 SSHSIG is ~1.1 KB in base64). */
export const MAX_SIGNATURE_LENGTH = 4096;

/**
 * Signs `data` with the private key at `keyFile` for `namespace`; returns the
 * armored signature as one line of base64 (fit for an HTTP header).
 */
export async function signWithKey(keyFile: string, namespace: SignatureNamespace, data: string): Promise<string> {
  const result = await execa("ssh-keygen", ["-q", "-Y", "sign", "-f", keyFile, "-n", namespace], { input: data, reject: false });
  if (result.exitCode !== 0) {
    throw new Error(`Cannot sign with SSH key "${keyFile}": ${result.stderr.trim() || `ssh-keygen exited ${result.exitCode}`}`);
  }
  return Buffer.from(result.stdout.trim() + "\n").toString("base64");
}

/**
 * Tells whether `signature` (as made by signWithKey) is `key`'s signature of
 * `data` for `namespace`. Anything malformed is simply not a valid signature.
 */
export async function verifyKeySignature(
  key: PublicKey, namespace: SignatureNamespace, data: string, signature: string | undefined,
): Promise<boolean> {
  if (!signature || signature.length > MAX_SIGNATURE_LENGTH || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  const armored = Buffer.from(signature, "base64").toString("utf8");
  if (!/^-----BEGIN SSH SIGNATURE-----\n[A-Za-z0-9+/=\n]+-----END SSH SIGNATURE-----\n?$/.test(armored)) return false;
  const dir = mkdtempSync(join(tmpdir(), "petit-sig-"));
  try {
    // The principal is a fixed word: the allowed-signers file holds exactly one key, the one on record.
    writeFileSync(join(dir, "signers"), `client namespaces="${namespace}" ${key.type} ${key.blob}\n`, { mode: 0o600 });
    writeFileSync(join(dir, "sig"), armored, { mode: 0o600 });
    const result = await execa("ssh-keygen", [
      "-Y", "verify", "-f", join(dir, "signers"), "-I", "client", "-n", namespace, "-s", join(dir, "sig"),
    ], { input: data, reject: false, timeout: 10_000 });
    return result.exitCode === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
