/**
 * HTTP/1.1 by hand over a TCP socket, for tests that need bytes no HTTP
 * client will send (smuggling attempts, obs-fold, Expect: 100-continue,
 * Upgrade, CONNECT) and need to see exactly what comes back.
 * @module
 */
import { connect, type Socket } from "node:net";

/** A parsed response head. */
export interface RawHead {
  /** The status line, e.g. "HTTP/1.1 407 Proxy Authentication Required". */
  statusLine: string;
  status: number;
  /** Header values by lower-case name; repeated headers are joined with ", ". */
  headers: Record<string, string>;
}

/** A parsed response. */
export interface RawResponse extends RawHead {
  body: Buffer;
  text: string;
  /** Trailer fields of a chunked body, by lower-case name. */
  trailers: Record<string, string>;
}

/** One TCP connection with reads that wait for bytes, each bounded in time. */
export class RawConnection {
  #buffered = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => { this.#buffered = Buffer.concat([this.#buffered, chunk]); this.#wake?.(); });
    const end = () => { this.#ended = true; this.#wake?.(); };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  /** Connects to 127.0.0.1:`port`, from `localAddress` when given (another loopback address: another visitor). */
  static open(port: number, timeoutMs = 5_000, localAddress?: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port, noDelay: true, localAddress });
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`connecting to 127.0.0.1:${port} timed out`)); }, timeoutMs);
      socket.once("connect", () => { clearTimeout(timer); resolve(new RawConnection(socket)); });
      socket.once("error", (error) => { clearTimeout(timer); reject(error); });
    });
  }

  /** Tells whether the peer has closed (or reset) the connection. */
  get ended(): boolean {
    return this.#ended;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until `take` returns a length to consume from the buffered bytes; returns those bytes. */
  async read(take: (buffered: Buffer, ended: boolean) => number | undefined, timeoutMs: number, what: string): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = take(this.#buffered, this.#ended);
      if (n !== undefined) {
        const out = this.#buffered.subarray(0, n);
        this.#buffered = this.#buffered.subarray(n);
        return out;
      }
      if (this.#ended) throw new Error(`connection closed while waiting for ${what}; got ${JSON.stringify(this.#buffered.toString("latin1").slice(0, 300))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => { clearTimeout(timer); this.#wake = undefined; resolve(); };
      });
    }
  }

  /** Reads exactly `n` bytes. */
  readBytes(n: number, timeoutMs = 5_000): Promise<Buffer> {
    return this.read((b) => (b.length >= n ? n : undefined), timeoutMs, `${n} bytes`);
  }

  /** Reads a response head (up to the blank line) and parses it. */
  async readHead(timeoutMs = 5_000): Promise<RawHead> {
    const head = await this.read((b) => { const i = b.indexOf("\r\n\r\n"); return i < 0 ? undefined : i + 4; }, timeoutMs, "a response head");
    return parseHead(head.toString("latin1"));
  }

  /** Reads a whole response: the body by Content-Length, chunked (with trailers), or up to the close. */
  async readResponse(options: { head?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const head = await this.readHead(timeoutMs);
    const trailers: Record<string, string> = {};
    let body: Buffer = Buffer.alloc(0);
    const noBody = options.head || head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200);
    if (noBody) {
      // nothing follows the head
    } else if (/chunked/i.test(head.headers["transfer-encoding"] ?? "")) {
      const parts: Buffer[] = [];
      for (;;) {
        const line = (await this.readLine(timeoutMs)).split(";")[0];
        const size = parseInt(line, 16);
        if (size === 0) break;
        parts.push(await this.readBytes(size, timeoutMs));
        await this.readBytes(2, timeoutMs);
      }
      for (let line = await this.readLine(timeoutMs); line !== ""; line = await this.readLine(timeoutMs)) {
        const colon = line.indexOf(":");
        trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      body = Buffer.concat(parts);
    } else if (head.headers["content-length"] !== undefined) {
      body = await this.readBytes(Number(head.headers["content-length"]), timeoutMs);
    } else {
      body = await this.read((b, ended) => (ended ? b.length : undefined), timeoutMs, "the end of the body");
    }
    return { ...head, body, text: body.toString("utf8"), trailers };
  }

  /** Waits for the peer to close the connection; returns whatever it sent before. */
  async closed(timeoutMs = 5_000): Promise<Buffer> {
    return this.read((b, ended) => (ended ? b.length : undefined), timeoutMs, "the connection to close");
  }

  close(): void {
    this.socket.destroy();
  }

  async readLine(timeoutMs: number): Promise<string> {
    const line = await this.read((b) => { const i = b.indexOf("\r\n"); return i < 0 ? undefined : i + 2; }, timeoutMs, "a line");
    return line.subarray(0, -2).toString("latin1");
  }
}

/** Parses a response head: status line and headers. */
export function parseHead(text: string): RawHead {
  const [statusLine, ...lines] = text.replace(/\r\n\r\n$/, "").split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { statusLine, status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]), headers };
}

/**
 * Sends `request` (a whole request, CRLFs included) on a new connection and
 * reads one response; the connection is closed afterwards.
 */
export async function rawRequest(port: number, request: string | Buffer, options: { head?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
  const conn = await RawConnection.open(port);
  try {
    conn.write(request);
    return await conn.readResponse(options);
  } finally {
    conn.close();
  }
}

/** Joins a request line and header lines with CRLF and ends the head with a blank line. */
export function requestHead(line: string, headers: string[]): string {
  return [line, ...headers].join("\r\n") + "\r\n\r\n";
}
