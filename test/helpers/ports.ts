/**
 * Free loopback ports for tests.
 * @module
 */
import { createServer } from "node:net";

/**
 * Returns a TCP port that is free on 127.0.0.1 right now, picked at random in
 * 10000-19999: outside the ephemeral range, where an outgoing connection of
 * any process running at the same time could take it before the test binds it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 10000 + Math.floor(Math.random() * 10000);
    if (await allFree(port, 1)) return port;
  }
  throw new Error("no free port found in 10000-19999");
}

/**
 * Returns the first port of `count` consecutive ports that are free now, picked
 * at random in 20000-32767: below Linux's ephemeral range (32768-60999), where
 * any port-0 listener or outgoing connection could take a port after it was
 * handed to a client.
 */
export async function freeRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20000 + Math.floor(Math.random() * Math.max(1, 12768 - count));
    if (await allFree(first, count)) return first;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

async function allFree(first: number, count: number): Promise<boolean> {
  for (let port = first; port < first + count; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (!free) return false;
  }
  return true;
}
