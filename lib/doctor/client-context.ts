/**
 * What the client's checks are given, and the fix commands they share.
 * @module
 */
import type { ClientStatus } from "../protocol/client-status.ts";
import type { ClientConfig } from "../config/schema.ts";
import type { ClientPaths } from "../paths.ts";
import type { HealthProbe } from "./probe.ts";

/** Settings and files of the client being checked, plus what earlier checks learned. */
export interface ClientContext {
  config: ClientConfig;
  paths: ClientPaths;
  /** The config file, for fixes that name a key in it. */
  configFile: string;
  /** The relay API's health answer, kept by "relay-api" for "clock". */
  health?: HealthProbe;
  /** The daemon's status, kept by "daemon" for "tunnel". */
  status?: ClientStatus;
}

/** The `petit register` command that re-registers this client with the same relay, target and name. */
export function registerFix(config: ClientConfig): string {
  const name = config.name ? ` --name ${config.name}` : "";
  return `petit register ${config.relay} --token TOKEN --to ${config.target}${name} (TOKEN from the relay's operator: petit server token), then petit down && petit up`;
}

/** The relay's host name from `client.relay`, without IPv6 brackets. */
export function relayHost(config: ClientConfig): string {
  return new URL(config.relay).hostname.replace(/^\[|\]$/g, "");
}

/** The relay API's port from `client.relay`. */
export function relayApiPort(config: ClientConfig): number {
  const url = new URL(config.relay);
  return Number(url.port) || (url.protocol === "https:" ? 443 : 80);
}
