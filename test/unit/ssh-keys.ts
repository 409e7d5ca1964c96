/**
 * Real SSH public keys for unit tests: from ssh-keygen (slow, any type) or
 * built in-process from node:crypto (fast, ed25519 only).
 * @module
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A generated key pair on disk: its public key line and the public file's path. */
export interface KeyFile {
  line: string;
  path: string;
}

/** Runs `ssh-keygen -t type` into `dir` and returns the public key line (with its comment). */
export function sshKeygen(dir: string, type: "ed25519" | "ecdsa" | "rsa" | "dsa", bits?: number): KeyFile {
  const file = join(dir, `id_${type}${bits ?? ""}_${Math.random().toString(16).slice(2)}`);
  const args = ["-q", "-t", type, "-N", "", "-C", "test@petit", "-f", file];
  if (bits) args.push("-b", String(bits));
  execFileSync("ssh-keygen", args, { stdio: "ignore" });
  return { line: readFileSync(`${file}.pub`, "utf8").trim(), path: `${file}.pub` };
}

/** Returns what `ssh-keygen -l -E sha256 -f path` prints, split into lines. */
export function keygenList(path: string): string[] {
  return execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", path], { encoding: "utf8" }).trim().split("\n");
}

/** Returns the SHA256 fingerprint ssh-keygen prints for the key(s) in `path` (must be exactly one). */
export function keygenFingerprint(path: string): string {
  const lines = keygenList(path);
  if (lines.length !== 1) throw new Error(`ssh-keygen listed ${lines.length} keys in "${path}"`);
  return lines[0].split(" ")[1];
}

/** Encodes `parts` in SSH wire format: each a uint32 length, then the bytes. */
export function sshBlob(...parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(parts.flatMap((part) => {
    const bytes = typeof part === "string" ? Buffer.from(part, "latin1") : part;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return [length, bytes];
  }));
}

/** Returns a fresh ed25519 public key line "ssh-ed25519 BASE64", made without spawning ssh-keygen. */
export function ed25519Line(): string {
  const { x } = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
  return `ssh-ed25519 ${sshBlob("ssh-ed25519", Buffer.from(x!, "base64url")).toString("base64")}`;
}
