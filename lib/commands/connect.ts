import type { Socket } from "node:net";
import { Command, Option, UsageError } from "clipanion";
import { createConnectServer } from "../client/connect.ts";
import { parseHostPort } from "../config/values.ts";
import { listen } from "../http/listen.ts";
import { PetitCommand } from "./base.ts";

/** `petit connect`: a local port leading to a client's service through the relay. */
export class ConnectCommand extends PetitCommand {
  static override paths = [["connect"]];
  static override usage = Command.Usage({
    category: "Visitor",
    description: "Open a local port that leads to a client's service through the relay (raw TCP)",
    details: `
      For tools that cannot speak HTTP CONNECT (SQL clients, RDP, SMB): every connection to the local port is carried to the client's service through the relay's proxy with \`CONNECT <id-or-name>.<domain>\`, authenticated with the client's access token. Runs until Ctrl-C.
    `,
    examples: [
      ["Reach client 1001's SQL server on local port 15432", "$0 connect 1001 --listen 127.0.0.1:15432 --relay http://relay.example.com --token TOKEN"],
    ],
  });

  label = Option.String({ name: "ID-OR-NAME" });
  listenAt = Option.String("--listen", "127.0.0.1:0", { description: "Local HOST:PORT to listen on (default a free port on 127.0.0.1)" });
  relay = Option.String("--relay", { required: true, description: "The relay's proxy URL, e.g. http://relay.example.com" });
  token = Option.String("--token", { env: "PETIT_ACCESS_TOKEN", description: "The client's access token (petit server access ID)" });
  domain = Option.String("--domain", { description: "The relay's domain (default: the relay URL's host name)" });

  async execute(): Promise<number> {
    const at = parseHostPort(this.listenAt.replace(/:0$/, ":65535"));
    if (!at) throw new UsageError(`--listen must be HOST:PORT such as "127.0.0.1:15432", got "${this.listenAt}"`);
    let relay: URL;
    try {
      relay = new URL(this.relay);
    } catch {
      throw new UsageError(`--relay must be a URL such as "http://relay.example.com", got "${this.relay}"`);
    }
    const port = this.listenAt.endsWith(":0") ? 0 : at.port;
    const tunnelHost = `${this.label.toLowerCase()}.${this.domain ?? relay.hostname}`;
    const server = createConnectServer({ relay, tunnelHost, token: this.token, log: (line) => this.err(line) });
    const open = new Set<Socket>();
    server.on("connection", (socket: Socket) => {
      open.add(socket);
      socket.once("close", () => open.delete(socket));
    });
    await listen(server, at.host, port, "petit connect");
    const address = server.address() as { port: number };
    this.out(`Listening on ${at.host}:${address.port} → ${tunnelHost} through ${relay.origin} (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    server.close();
    // Open connections would keep the process running after Ctrl-C: end them (their tunnels close with them).
    for (const socket of open) socket.destroy();
    return 0;
  }
}
