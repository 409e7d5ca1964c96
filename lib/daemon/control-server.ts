/**
 * The local control API both daemons serve: loopback only, and every call
 * must carry the owner's secret.
 * @module
 */
import { createServer, type Server } from "node:http";
import { CONTROL_SECRET_HEADER } from "../constants.ts";
import { sendJson } from "../http/body.ts";
import { safeEqual } from "../secrets.ts";

/** A route: "GET /v1/status" → handler returning the JSON answer. */
export type ControlRoutes = Record<string, () => unknown | Promise<unknown>>;

/** Creates (but does not start) a control server answering `routes`. */
export function createControlServer(secret: string, routes: ControlRoutes, log: (line: string) => void): Server {
  return createServer({ headersTimeout: 5_000, requestTimeout: 10_000 }, async (req, res) => {
    const given = req.headers[CONTROL_SECRET_HEADER];
    if (typeof given !== "string" || !safeEqual(given, secret)) {
      return sendJson(res, 401, { error: `missing or wrong ${CONTROL_SECRET_HEADER} header` });
    }
    const handler = routes[`${req.method} ${req.url?.split("?")[0]}`];
    if (!handler) return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${req.url}` });
    try {
      sendJson(res, 200, await handler());
    } catch (error) {
      log(`control: ${req.method} ${req.url}: ${(error as Error).message}`);
      sendJson(res, 500, { error: (error as Error).message });
    }
  });
}
