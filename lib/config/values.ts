/**
 * Checking a config value against its field (schema.ts), and the parsers of
 * the values that are text with a shape: "HOST:PORT", "FIRST-LAST", a bare port.
 * @module
 */
import type { Field } from "./schema.ts";

/** Returns why `value` is not a valid `kind`, or undefined when it is. */
export function checkValue(field: Field, value: unknown): string | undefined {
  switch (field.kind) {
    case "email":
      return typeof value === "string" && /^[^\s@"'\\]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/.test(value)
        ? undefined : 'an e-mail address such as "ops@example.com"';
    case "boolean":
      return typeof value === "boolean" ? undefined : "true or false";
    case "choice":
      return typeof value === "string" && field.choices?.includes(value)
        ? undefined : `one of ${field.choices?.map((c) => `"${c}"`).join(", ")}`;
    case "string":
      return typeof value === "string" ? undefined : "a string";
    // These reach sshd_config, authorized_keys or a systemd unit, where a line break would add a directive.
    case "address":
      return typeof value === "string" && /^[A-Za-z0-9.:%-]{1,255}$/.test(value)
        ? undefined : 'an IP address or host name such as "0.0.0.0", "::" or "127.0.0.1"';
    case "user":
      return typeof value === "string" && /^([A-Za-z_][A-Za-z0-9_.-]{0,31})?$/.test(value)
        ? undefined : 'an account name such as "petit-tunnel" (letters, digits, "_", "-", "."), or ""';
    case "path":
      // eslint-disable-next-line no-control-regex
      return typeof value === "string" && !/[\x00-\x1f\x7f"'\\]/.test(value)
        ? undefined : "a path without line breaks, control characters, quotes or backslashes";
    case "tunnels":
      return Array.isArray(value) && value.every((t) =>
          typeof t === "object" && t !== null && typeof t.name === "string" && /^[a-z0-9-]{1,63}$/.test(t.name) &&
          typeof t.target === "string" && parseHostPort(t.target) !== undefined &&
          (t.port === undefined || (Number.isInteger(t.port) && t.port > 0 && t.port < 65536)) &&
          Object.keys(t).every((k) => ["name", "target", "port"].includes(k)))
        ? undefined : '[[client.tunnel]] tables with name = "a-dns-label" and target = "HOST:PORT" (and nothing else)';
    case "cidrs":
      return Array.isArray(value) && value.every((v) => typeof v === "string" && /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(v))
        ? undefined : 'a list of networks such as ["10.0.0.0/8", "2001:db8::/32"]';
    case "domain":
      return typeof value === "string" && /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(value)
        ? undefined : 'a DNS name such as "relay.example.com"';
    case "host":
      return typeof value === "string" && /^[A-Za-z0-9.:\[\]-]*$/.test(value)
        ? undefined : "a host name or IP address";
    case "url":
      return typeof value === "string" && /^https?:\/\/[^\s/]+/.test(value)
        ? undefined : 'a URL such as "http://relay.example.com:3014"';
    case "endpoints":
      return Array.isArray(value) && value.every((v) => typeof v === "string" && parseHostPort(v) !== undefined)
        ? undefined : 'a list of "HOST:PORT" such as ["relay2.example.com:2222"]';
    case "store":
      return typeof value === "string" && (value === "" || /^postgres(ql)?:\/\/[^\s]+$/.test(value))
        ? undefined : 'a PostgreSQL URL such as "postgresql://petit@db.example.com:5432/petit", or ""';
    case "port":
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535
        ? undefined : "a port number from 0 to 65535";
    case "integer": {
      const ok = Number.isInteger(value) && (value as number) >= (field.min ?? -Infinity) &&
        (value as number) <= (field.max ?? Infinity);
      return ok ? undefined : `a whole number from ${field.min ?? "-∞"} to ${field.max ?? "∞"}`;
    }
    case "hostport":
      return typeof value === "string" && parseHostPort(value) ? undefined : 'HOST:PORT, such as "127.0.0.1:8080"';
    case "range":
      return typeof value === "string" && parseRange(value) ? undefined : 'a port range "FIRST-LAST", such as "11000-11999"';
  }
}

/** Parses "HOST:PORT" or "[v6]:PORT"; undefined when malformed. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2], port };
}

/** A service given as a bare port ("8080") is on this machine: "127.0.0.1:8080". Anything else is left as it is. */
export function expandTarget(text: string): string {
  return /^\d{1,5}$/.test(text) ? `127.0.0.1:${text}` : text;
}

/** Parses "FIRST-LAST" into a port range; undefined when malformed or empty. */
export function parseRange(text: string): { first: number; last: number } | undefined {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const first = Number(match[1]);
  const last = Number(match[2]);
  if (first < 1 || last > 65535 || first > last) return undefined;
  return { first, last };
}
