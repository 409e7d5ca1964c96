/**
 * Where OpenSSH's sshd binary is, for both sshd modes, doctor and the
 * trusted-files check.
 * @module
 */
import { existsSync } from "node:fs";

/** Returns the sshd binary: `configured` if set, else the first of the usual places that exists. */
export function findSshd(configured: string): string {
  if (configured) return configured;
  for (const path of ["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"]) if (existsSync(path)) return path;
  throw new Error(
    "Cannot find sshd: install OpenSSH's server (apt-get install openssh-server) or set server.sshd_path",
  );
}
