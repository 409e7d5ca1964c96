/**
 * A private network for fault-injection tests: a network namespace joined to
 * the host by a veth pair with two addresses that exist only on that pair,
 * and a black hole that drops every IP packet on the link in both directions
 * (no FIN, no RST, no ICMP), then lets traffic through again.
 * @module
 */
import { execa } from "execa";
import { networkInterfaces } from "node:os";

/** A namespace linked to the host. */
export interface NetnsLink {
  /** Name of the namespace. */
  ns: string;
  /** Address of the host's end of the veth pair. */
  hostAddress: string;
  /** Address of the namespace's end. */
  nsAddress: string;
  /** Argv prefix running a program inside the namespace. */
  exec(argv: string[]): [string, string[]];
  /** Drops every IP packet arriving at either end of the link. */
  blackhole(): Promise<void>;
  /** Lets packets through again. */
  restore(): Promise<void>;
  /** Deletes the namespace and the veth pair (and with them the filters). */
  remove(): Promise<void>;
}

// Classic BPF "ret #2": TC_ACT_SHOT in direct-action mode, so tc drops the
// packet on ingress silently. netem and the gact action are not built into
// every kernel; cls_bpf is. ARP is left alone so the neighbours stay
// reachable and the link behaves like a dead path, not like a dead cable
// (which the kernel answers locally with "No route to host").
const DROP_ALL = "1,6 0 0 2,";

async function run(program: string, args: string[]): Promise<void> {
  await execa(program, args, { timeout: 10_000, stdin: "ignore" });
}

/**
 * Returns why namespace tests cannot run here (not root, no `ip netns`, no
 * way to drop packets), or undefined when they can.
 */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "network namespaces need root";
  let link: NetnsLink | undefined;
  try {
    link = await createNetnsLink(`petit-p-${process.pid}`);
    await link.blackhole();
    await link.restore();
    return undefined;
  } catch (error) {
    return `cannot create a network namespace with a black-holable veth link here: ${(error as Error).message.split("\n")[0]}`;
  } finally {
    await link?.remove();
  }
}

/**
 * Creates namespace `ns` and a veth pair to it, with a /30 from 10.231.0.0/16
 * not used by any host interface (it exists only on this pair).
 */
export async function createNetnsLink(ns: string): Promise<NetnsLink> {
  const subnet = freeSubnet();
  const hostAddress = `10.231.${subnet}.1`;
  const nsAddress = `10.231.${subnet}.2`;
  // Interface names are limited to 15 characters.
  const tag = ns.replace(/[^0-9a-z]/gi, "").slice(-9);
  const hostIf = `vh${tag}`;
  const nsIf = `vn${tag}`;
  const removed = { done: false };
  const remove = async (): Promise<void> => {
    if (removed.done) return;
    removed.done = true;
    // Deleting the namespace deletes its end of the pair, and so the pair.
    await execa("ip", ["netns", "del", ns], { reject: false, timeout: 10_000 });
    await execa("ip", ["link", "del", hostIf], { reject: false, timeout: 10_000 });
  };
  try {
    await run("ip", ["netns", "add", ns]);
    await run("ip", ["link", "add", hostIf, "type", "veth", "peer", "name", nsIf]);
    await run("ip", ["link", "set", nsIf, "netns", ns]);
    await run("ip", ["addr", "add", `${hostAddress}/30`, "dev", hostIf]);
    await run("ip", ["link", "set", hostIf, "up"]);
    await run("ip", ["-n", ns, "addr", "add", `${nsAddress}/30`, "dev", nsIf]);
    await run("ip", ["-n", ns, "link", "set", nsIf, "up"]);
    await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
    await run("tc", ["qdisc", "add", "dev", hostIf, "clsact"]);
    await run("ip", ["netns", "exec", ns, "tc", "qdisc", "add", "dev", nsIf, "clsact"]);
  } catch (error) {
    await remove();
    throw error;
  }
  const filter = (action: "add" | "del", inNs: boolean): string[] => [
    ...(inNs ? ["netns", "exec", ns, "tc"] : []), "filter", action, "dev", inNs ? nsIf : hostIf, "ingress", "pref", "1",
    ...(action === "add" ? ["protocol", "ip", "bpf", "da", "bytecode", DROP_ALL] : []),
  ];
  return {
    ns, hostAddress, nsAddress,
    exec: (argv) => ["ip", ["netns", "exec", ns, ...argv]],
    async blackhole() {
      await Promise.all([run("tc", filter("add", false)), run("ip", filter("add", true))]);
    },
    async restore() {
      await Promise.all([run("tc", filter("del", false)), run("ip", filter("del", true))]);
    },
    remove,
  };
}

/** Picks X such that no host interface has an address in 10.231.X.0/24. */
function freeSubnet(): number {
  const used = new Set(Object.values(networkInterfaces()).flat()
    .map((a) => /^10\.231\.(\d+)\./.exec(a?.address ?? "")?.[1]).filter(Boolean).map(Number));
  for (let i = 0; i < 256; i++) {
    const x = (process.pid + i) % 256;
    if (!used.has(x)) return x;
  }
  throw new Error("no free 10.231.X.0/24 subnet for the test's veth pair");
}
