/**
 * The client's checks of the way to its relay: name resolution, the
 * registration API, the SSH port, and clock skew against the relay.
 * @module
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { fail, ok, warn, type Check, type Finding } from "./check.ts";
import { relayApiPort, relayHost, type ClientContext } from "./client-context.ts";
import { clockSkewSeconds, judgeClockSkew } from "./clock.ts";
import { probeHealth, probeTcp } from "./probe.ts";

/** Resolves the host names of `client.relay` and `client.ssh_host` (3 s each). */
export async function checkRelayDns({ config, configFile }: ClientContext): Promise<Finding> {
  const names = new Map([[relayHost(config), "client.relay"]]);
  if (!names.has(config.ssh_host)) names.set(config.ssh_host, "client.ssh_host");
  const found: string[] = [];
  for (const [host, key] of names) {
    if (isIP(host)) {
      found.push(`${host} (an IP address)`);
      continue;
    }
    const answer = await resolveWithin(host, 3_000);
    if (typeof answer !== "string") {
      return fail(
        `cannot resolve "${host}" (${key}): ${answer.reason}`,
        `check the relay's DNS name in ${key} of "${configFile}", and this machine's resolver (/etc/resolv.conf)`,
      );
    }
    found.push(`${host} → ${answer}`);
  }
  return ok(found.join(", "));
}

async function resolveWithin(host: string, timeoutMs: number): Promise<string | { reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ reason: string }>((resolve) => {
    timer = setTimeout(() => resolve({ reason: `no answer within ${timeoutMs / 1000} s` }), timeoutMs);
  });
  try {
    return await Promise.race([lookup(host).then((a) => a.address), timeout]);
  } catch (error) {
    return { reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** GETs `<client.relay>/v1/health` within 3 s; keeps the answer for the clock check. */
export async function checkRelayApi(context: ClientContext): Promise<Finding> {
  const { config, configFile } = context;
  const url = new URL("/v1/health", config.relay).toString();
  const health = await probeHealth(config.relay, 3_000);
  context.health = health;
  if (!health.ok) {
    return fail(
      `the relay's API does not answer at ${url}: ${health.reason}`,
      `on the relay: petit server up, and open TCP port ${relayApiPort(config)} (server.api_port) in its firewall; or correct client.relay in "${configFile}"`,
    );
  }
  if (health.status !== 200) {
    return fail(
      `${url} answered ${health.status}, not petit's 200: another program answers there`,
      `set client.relay in "${configFile}" to the relay's API address (server.api_port, default 3014)`,
    );
  }
  return ok(`GET ${url} answered 200 in ${health.ms} ms`);
}

/** Opens a TCP connection to the relay's sshd (`client.ssh_host`:`client.ssh_port`) within 3 s. */
export async function checkRelaySsh({ config, configFile }: ClientContext): Promise<Finding> {
  const where = `${config.ssh_host}:${config.ssh_port}`;
  const probe = await probeTcp(config.ssh_host, config.ssh_port, 3_000);
  if (!probe.ok) {
    return fail(
      `cannot connect to the relay's SSH port ${where}: ${probe.reason}`,
      `on the relay: petit server up, and open TCP port ${config.ssh_port} (server.ssh_port) in its firewall; ` +
        `or correct client.ssh_host / client.ssh_port in "${configFile}"`,
    );
  }
  return ok(`TCP connect to ${where} took ${probe.ms} ms`);
}

/** Compares the Date header of the relay's health answer with this machine's clock. */
export function checkClock({ health }: ClientContext): Finding {
  if (!health?.ok) return warn("not checked: the relay's API did not answer", 'fix "relay-api" first, then run petit doctor again');
  const skew = health.date ? clockSkewSeconds(health.date, health.sentAt, health.receivedAt) : undefined;
  if (skew === undefined) {
    return warn(
      `the relay's answer has no usable Date header (${JSON.stringify(health.date ?? null)})`,
      "check that client.relay points at petit's API and not at a proxy that strips headers",
    );
  }
  return judgeClockSkew(skew);
}

/** The relay-facing checks, in report order. */
export const clientRelayChecks: Check<ClientContext>[] = [
  { name: "relay-dns", run: checkRelayDns },
  { name: "relay-api", run: checkRelayApi },
  { name: "relay-ssh", run: checkRelaySsh },
  { name: "clock", needs: ["relay-api"], run: checkClock },
];
