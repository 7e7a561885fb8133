import { connect, type Socket } from "node:net";

// Requests written byte by byte on a bare socket, for what node:http would not let a test do:
// declare a body and not send it, send half of one, trickle one, or hang up in the middle.

export interface RawResponse {
  /** null when the connection closed (or the wait ended) without an answer. */
  status: number | null;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body, de-chunked. */
  body: string;
  /** Interim (1xx) statuses sent before the answer, e.g. [100] for `100 Continue`. */
  interim: number[];
}

export function parseResponse(text: string): RawResponse {
  const interim: number[] = [];
  for (
    let match = /^HTTP\/1\.[01] (1\d\d)[^\r]*\r\n(?:[^\r]+\r\n)*\r\n/.exec(text);
    match;
    match = /^HTTP\/1\.[01] (1\d\d)[^\r]*\r\n(?:[^\r]+\r\n)*\r\n/.exec(text)
  ) {
    interim.push(Number(match[1]));
    text = text.slice(match[0].length);
  }
  const headEnd = text.indexOf("\r\n\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
  if (headEnd === -1 || status === undefined) return { status: null, headers: {}, body: "", interim };
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, headEnd).split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  let body = text.slice(headEnd + 4);
  if (headers["transfer-encoding"] === "chunked") {
    let decoded = "";
    let rest = body;
    for (;;) {
      const lineEnd = rest.indexOf("\r\n");
      const size = Number.parseInt(rest.slice(0, lineEnd), 16);
      if (!(size > 0)) break;
      decoded += rest.slice(lineEnd + 2, lineEnd + 2 + size);
      rest = rest.slice(lineEnd + 2 + size + 2);
    }
    body = decoded;
  }
  // The wire is bytes; the JSON bodies are UTF-8.
  return { status: Number(status), headers, body: Buffer.from(body, "latin1").toString("utf8"), interim };
}

export interface OpenRequest {
  socket: Socket;
  /** Resolves when the server closes the connection (or after `timeoutMs`), with what it sent. */
  answer: Promise<RawResponse>;
}

/** Opens a connection and writes `bytes`; the caller may write more on `socket`. */
export function openRequest(port: number, bytes: string | Buffer, timeoutMs = 5_000): OpenRequest {
  const socket = connect(port, "127.0.0.1");
  const answer = new Promise<RawResponse>((resolve) => {
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseResponse(Buffer.concat(chunks).toString("latin1")));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("close", finish);
    // EPIPE / ECONNRESET once the server has answered and closed: what it sent is in `chunks`.
    socket.on("error", () => {});
  });
  socket.write(bytes);
  return { socket, answer };
}

/** The head of a POST to `path`, with the given headers (no body). */
export function postHead(path: string, headers: Record<string, string | number>): string {
  const lines = Object.entries({ host: "x", "content-type": "application/json", ...headers }).map(
    ([name, value]) => `${name}: ${value}`,
  );
  return `POST ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`;
}

/** Waits until `condition` holds, checking every 10 ms; fails after `timeoutMs` (a bound on a hang, not a timing claim). */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still not true after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
