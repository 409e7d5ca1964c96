/**
 * A /.petit/ request's connection: petit takes it over from the proxy,
 * reads the small form body, answers, and closes. These requests are few
 * (a person signing in), so they keep no keep-alive and stay off the
 * proxy's hot path.
 * @module
 */
import type { Socket } from "node:net";
import { pageAnswer, textAnswer } from "../answers.ts";
import type { RequestHead } from "../http1/request-head.ts";
import type { ProxyOptions, ProxyRequest } from "../types.ts";
import { answerPetitPath, type PetitAnswer } from "./petit-pages.ts";
import type { SignIn } from "./sign-in.ts";

/** The largest sign-in form read; a token or a link and a path fit many times over. */
export const MAX_FORM_BYTES = 8_192;
/** How long the form may take to arrive. */
const BODY_TIMEOUT_MS = 10_000;

/**
 * Answers `req` (its head parsed as `head` from `buf`; read synchronously,
 * before anything else reuses them) on `socket`, of which `pending` bytes
 * are already read. Calls `done` with the status once answered.
 */
export function servePetitPath(
  req: ProxyRequest, head: RequestHead, buf: Buffer,
  io: { socket: Socket; pending: Buffer; options: ProxyOptions; signIn: SignIn; done: (status: number) => void },
): void {
  const { socket, options, signIn, done } = io;
  const isHead = req.method === "HEAD";
  const length = head.framing.contentLength;
  const origin = fieldValue(head, buf, "origin");
  const finish = (answer: PetitAnswer) => {
    done(answer.status);
    if (!socket.writable) return void socket.destroy();
    socket.end(answer.html !== undefined
      ? pageAnswer(answer.status, answer.html, answer.headers, true, isHead)
      : textAnswer(answer.status, answer.line ?? "", answer.headers, true));
  };
  if (head.framing.chunked) return finish({ status: 411, headers: {}, line: "petit: a sign-in form needs a Content-Length" });
  if (length > MAX_FORM_BYTES) return finish({ status: 413, headers: {}, line: `petit: a sign-in form is at most ${MAX_FORM_BYTES} bytes` });
  const want = Math.max(0, length);
  let body = io.pending;
  const stop = () => {
    clearTimeout(timer);
    socket.removeListener("data", onData);
    socket.removeListener("close", stop);
  };
  const answer = () => {
    stop();
    void Promise.resolve(answerPetitPath(req, { body: body.subarray(0, want).toString("utf8"), origin }, options, signIn)).then(finish);
  };
  const onData = (chunk: Buffer) => {
    body = Buffer.concat([body, chunk]);
    if (body.length >= want) answer();
  };
  const timer = setTimeout(() => {
    stop();
    finish({ status: 408, headers: {}, line: `petit: the sign-in form did not arrive within ${BODY_TIMEOUT_MS / 1000} s` });
  }, BODY_TIMEOUT_MS);
  if (body.length >= want) return answer();
  socket.on("data", onData);
  socket.on("close", stop);
  if (socket.isPaused()) socket.resume();
}

/** Returns the value of the first field named `name` (lower-case) in the head, or undefined. */
function fieldValue(head: RequestHead, buf: Buffer, name: string): string | undefined {
  const { fields } = head;
  for (let i = 0; i < fields.count; i++) if (fields.name(buf, i) === name) return fields.value(buf, i);
  return undefined;
}
