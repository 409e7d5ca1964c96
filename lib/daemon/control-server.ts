/**
 * The local control API both daemons serve: loopback only, and every call
 * must carry the owner's secret, or come from a web-console session (see
 * lib/ui/serve.ts, which also serves the pages and /metrics through `open`).
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { CONTROL_SECRET_HEADER } from "../constants.ts";
import { readBody, sendJson } from "../http/body.ts";
import { safeEqual } from "../secrets.ts";

/** What a handler gets: the `:name` parts of its path, the query, and the parsed JSON body (if any). */
export interface ControlRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

/** Hooks for the web console (lib/ui/serve.ts): pages and metrics, and browser sessions. */
export interface ControlOptions {
  /** Sees every request first and answers what needs no secret (pages, login, /metrics); returns true when it answered. */
  open?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /** Decides on a request without the secret header (a browser session); returns the refusal, or undefined to let it in. */
  authorize?: (req: IncomingMessage, path: string) => { status: number; message: string } | undefined;
}

/**
 * Routes: "GET /v1/status" or "POST /v1/clients/:id/revoke" → handler
 * returning the JSON answer. A handler throws an error with a `status` for
 * the caller's mistakes (404, 400 …).
 */
export type ControlRoutes = Record<string, (request: ControlRequest) => unknown | Promise<unknown>>;

/** Creates (but does not start) a control server answering `routes`. */
export function createControlServer(
  secret: string, routes: ControlRoutes, log: (line: string) => void, options: ControlOptions = {},
): Server {
  const table = Object.entries(routes).map(([key, handler]) => {
    const [method, path] = key.split(" ");
    const names: string[] = [];
    const pattern = path.replace(/:(\w+)/g, (_, name: string) => (names.push(name), "([^/]+)"));
    return { method, regex: new RegExp(`^${pattern}$`), names, handler };
  });
  return createServer({ headersTimeout: 5_000, requestTimeout: 10_000 }, async (req, res) => {
    if (options.open && await options.open(req, res)) return;
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const [path, search] = q < 0 ? [url, ""] : [url.slice(0, q), url.slice(q + 1)];
    const given = req.headers[CONTROL_SECRET_HEADER];
    if (given === undefined && options.authorize) {
      const refusal = options.authorize(req, path);
      if (refusal) return sendJson(res, refusal.status, { error: refusal.message });
    } else if (typeof given !== "string" || !safeEqual(given, secret)) {
      return sendJson(res, 401, { error: `missing or wrong ${CONTROL_SECRET_HEADER} header` });
    }
    for (const route of table) {
      const match = route.method === req.method ? route.regex.exec(path) : null;
      if (!match) continue;
      try {
        const text = await readBody(req, 64 * 1024);
        const body = text ? JSON.parse(text) : undefined;
        const params = Object.fromEntries(route.names.map((name, i) => [name, decodeSegment(match[i + 1])]));
        return sendJson(res, 200, await route.handler({ params, query: new URLSearchParams(search), body }));
      } catch (error) {
        const status = (error as { status?: number }).status ?? (error instanceof SyntaxError ? 400 : 500);
        if (status >= 500) log(`control: ${req.method} ${path}: ${(error as Error).message}`);
        return sendJson(res, status, { error: (error as Error).message });
      }
    }
    sendJson(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
  });
}

/** An error a control handler throws for the caller's mistake, with its HTTP status. */
export function controlError(status: number, message: string): Error {
  return Object.assign(new Error(message), { status });
}

/** Decodes one `:name` part of a path; a malformed %-escape is the caller's mistake (400), not the daemon's (500). */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw controlError(400, `cannot decode "${segment.slice(0, 100)}" in the path: malformed %-escape (encode it with encodeURIComponent)`);
  }
}
