/**
 * ssh-keygen wrappers: make a key pair, make a host key.
 * @module
 */
import { execa } from "execa";
import { existsSync, mkdirSync, readFileSync, chmodSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Creates an ed25519 key pair at `path` (and `path.pub`) unless one exists.
 * Returns the public key line.
 */
export async function ensureKeyPair(path: string, comment: string): Promise<string> {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path], { stdin: "ignore" });
    } catch (error) {
      throw new Error(`Cannot create SSH key "${path}" with ssh-keygen: ${(error as Error).message}`, { cause: error });
    }
  }
  chmodSync(path, 0o600);
  return readFileSync(`${path}.pub`, "utf8").trim();
}
