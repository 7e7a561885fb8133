import { Agent, request } from "node:http";
import { connect } from "node:net";

// Two ways to talk to the real server on its real port: node:http for requests an HTTP client can
// express (any method token, header, body), and a bare TCP socket for bytes no client would send.

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request left unanswered this long is a failure (a healthy answer takes milliseconds). */
export const ANSWER_TIMEOUT_MS = 3_000;

const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });

export interface HttpRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Reuse connections (fast); off for requests the server may cut short (413, 431). */
  reuseConnection?: boolean;
}

/** One request through node:http; resolves with the answer, or rejects if no answer came. */
export function send(
  port: number,
  { method = "GET", path, headers = {}, body, reuseConnection = true }: HttpRequest,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        headers,
        agent: reuseConnection ? keepAlive : false,
        timeout: ANSWER_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer to ${method} ${path} within ${ANSWER_TIMEOUT_MS} ms`)));
    // A server that answers early (413, 431) may close while the body is still being written:
    // the answer has then arrived already, or the error is the result.
    req.on("error", reject);
    req.end(body);
  });
}

export interface RawAnswer {
  /** The status of the first response line, or null when the server closed without answering. */
  status: number | null;
  /** Everything received, as latin1. */
  text: string;
}

/** Writes raw bytes on a fresh TCP connection and collects what comes back until the server closes. */
export function sendRaw(port: number, bytes: string | Buffer, timeoutMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : null, text });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", finish);
    socket.on("close", finish);
    // EPIPE / ECONNRESET after the server refused early: what it sent is still in `chunks`.
    socket.on("error", finish);
    socket.write(bytes);
  });
}

/** The server still answers: GET /health is 200. */
export async function healthStatus(port: number): Promise<number> {
  return (await send(port, { path: "/health", reuseConnection: false })).status;
}
