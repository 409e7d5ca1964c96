/**
 * Mapping a visitor's Host header to a client label.
 * @module
 */

/**
 * Returns the client label ("1001" or "shop") that `host` addresses under
 * `domain`, or undefined when `host` is not a single label under it.
 * Case-insensitive; a port and a trailing dot are ignored.
 * @example labelFromHost("1001.Relay.Example.com.:80", "relay.example.com") === "1001"
 */
export function labelFromHost(host: string | undefined, domain: string): string | undefined {
  if (!host || host.length > 300) return undefined;
  let name = host.toLowerCase();
  if (name.startsWith("[")) return undefined; // an IPv6 literal names no client
  name = name.replace(/:\d{1,5}$/, "").replace(/\.$/, "");
  const suffix = "." + domain.toLowerCase().replace(/\.$/, "");
  if (!name.endsWith(suffix)) return undefined;
  const label = name.slice(0, -suffix.length);
  return /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label) ? label : undefined;
}
