/**
 * Asking the client daemon for its status, shared by up, status and down.
 * @module
 */
import type { ClientStatus } from "../client/daemon.ts";
import type { ClientConfig } from "../config/schema.ts";
import { callControl } from "../daemon/control-client.ts";
import type { ClientPaths } from "../paths.ts";
import { readSecret } from "../secrets.ts";

/** Returns the running daemon's status, or undefined when no daemon answers. */
export async function fetchClientStatus(config: ClientConfig, paths: ClientPaths): Promise<ClientStatus | undefined> {
  const secret = readSecret(paths.controlSecret);
  if (!secret) return undefined;
  return callControl<ClientStatus>({ port: config.control_port, secret }, "/v1/status");
}

/** Exit codes of `petit up`, documented in the README. */
export const UP_EXIT = {
  connected: 0,
  /** Not connected within up_timeout; the daemon keeps trying. */
  notYet: 3,
  /** The relay refused this client (key revoked, host key changed): a person must act. */
  refused: 4,
} as const;
