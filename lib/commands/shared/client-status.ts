/**
 * Calling the client daemon's control API, shared by up, status, down, pause
 * and resume.
 * @module
 */
import type { ClientStatus } from "../../protocol/client-status.ts";
import type { ClientConfig } from "../../config/schema.ts";
import { callDaemon } from "../../daemon/control-client.ts";
import type { ClientPaths } from "../../paths.ts";

/**
 * Calls `path` on the running daemon (with its control secret) and returns
 * the status it answers with, or undefined when no daemon answers.
 */
export async function callClientDaemon(
  config: ClientConfig, paths: ClientPaths, path: string, init?: { method?: "GET" | "POST"; timeout?: number },
): Promise<ClientStatus | undefined> {
  return callDaemon<ClientStatus>({ secretFile: paths.controlSecret, port: () => config.control_port }, path, init);
}

/** Returns the running daemon's status, or undefined when no daemon answers. */
export function fetchClientStatus(config: ClientConfig, paths: ClientPaths): Promise<ClientStatus | undefined> {
  // The daemon answers this from memory: a few seconds of silence mean something is wrong.
  return callClientDaemon(config, paths, "/v1/status", { timeout: 3_000 });
}

/** Exit codes of `petit up`, documented in the README. */
export const UP_EXIT = {
  connected: 0,
  /** Not connected within up_timeout; the daemon keeps trying. */
  notYet: 3,
  /** A person must act before the tunnel can work (key revoked, relay host key changed, ssh cannot be run). */
  refused: 4,
} as const;
