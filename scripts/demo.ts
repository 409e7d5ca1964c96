/**
 * `npm run demo`: a relay, a client and a sample web service, all on
 * loopback, driven through the real CLI. Prints the public URL and a curl
 * command; Ctrl-C stops everything and removes the demo's files.
 */
import { execa } from "execa";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { request } from "undici";

const root = resolve(import.meta.dirname, "..");
// sshd refuses key files below world-writable folders such as /tmp.
const base = join(homedir(), ".cache", "petit-demo");
mkdirSync(base, { recursive: true, mode: 0o700 });
const relayHome = mkdtempSync(join(base, "relay-"));
const clientHome = mkdtempSync(join(base, "client-"));

async function petit(home: string, ...args: string[]): Promise<string> {
  const result = await execa(process.execPath, ["--import", "tsx", join(root, "cli.ts"), ...args], {
    env: { PETIT_HOME: home }, stdin: "ignore", reject: false,
  });
  if (result.exitCode !== 0) throw new Error(`petit ${args.join(" ")} failed:\n${result.stderr || result.stdout}`);
  return result.stdout;
}

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

const service = createServer((req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end(`Hello from the private service behind petit! You asked for ${req.url}\n`);
});
const servicePort = await freePort();
await new Promise<void>((ok) => service.listen(servicePort, "127.0.0.1", ok));

let cleaning = false;
async function cleanup(code: number): Promise<never> {
  if (!cleaning) {
    cleaning = true;
    process.stderr.write("\nStopping the demo…\n");
    await petit(clientHome, "down").catch(() => undefined);
    await petit(relayHome, "server", "down").catch(() => undefined);
    service.close();
    rmSync(relayHome, { recursive: true, force: true });
    rmSync(clientHome, { recursive: true, force: true });
  }
  process.exit(code);
}
process.on("SIGINT", () => void cleanup(0));
process.on("SIGTERM", () => void cleanup(0));

try {
  const [http, api, control, ssh, clientControl] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const rangeFirst = 20000 + Math.floor(Math.random() * 30000);
  process.stderr.write("Starting a relay (its own sshd on loopback)…\n");
  await petit(relayHome, "server", "init", "--domain", "localhost", "--listen", "127.0.0.1",
    "--http-port", String(http), "--api-port", String(api), "--control-port", String(control),
    "--ssh-port", String(ssh), "--port-range", `${rangeFirst}-${rangeFirst + 99}`);
  await petit(relayHome, "server", "up");
  const token = (await petit(relayHome, "server", "token")).trim();
  process.stderr.write(`Registering a client for the sample service on 127.0.0.1:${servicePort}…\n`);
  const registered = await petit(clientHome, "register", `http://127.0.0.1:${api}`, "--token", token, "--name", "demo",
    "--to", `127.0.0.1:${servicePort}`, "--control-port", String(clientControl));
  // Visitors need the client's access token, which register prints (as the README's quick start says; petit status shows it too).
  const accessToken = /Proxy-Authorization: Bearer (\S+)/.exec(registered)?.[1];
  if (!accessToken) throw new Error(`petit register printed no access token:\n${registered}`);
  process.stderr.write("Opening the tunnel (ssh -R, supervised)…\n");
  await petit(clientHome, "up");
  const url = `http://1001.localhost:${http}/`;
  const res = await request(`http://127.0.0.1:${http}/`, {
    headers: { host: `1001.localhost:${http}`, "proxy-authorization": `Bearer ${accessToken}` },
  });
  const body = await res.body.text();
  // Clients are private by default: the same request without the token is refused.
  const anonymous = await request(`http://127.0.0.1:${http}/`, { headers: { host: `1001.localhost:${http}` } });
  await anonymous.body.dump();
  process.stdout.write(`
The private service is reachable through the relay:

  public URL:  ${url}   (also http://demo.localhost:${http}/)
  try:         curl -H 'Proxy-Authorization: Bearer ${accessToken}' ${url}
  answered:    ${res.statusCode} ${body.trim()}
  without it:  ${anonymous.statusCode} (clients are private by default; "petit server access 1001 --public" opens one to anyone)

  relay home:  ${relayHome}   (PETIT_HOME=${relayHome} npx tsx cli.ts server clients)
  client home: ${clientHome}  (PETIT_HOME=${clientHome} npx tsx cli.ts status)

Press Ctrl-C to stop everything.
`);
  if (process.env.PETIT_DEMO_EXIT) await cleanup(res.statusCode === 200 && anonymous.statusCode === 407 ? 0 : 1);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  await cleanup(1);
}
