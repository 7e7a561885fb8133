import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

/**
 * Set on every response this server writes: answers carry tokens, keys and customer data, so no
 * cache (browser or proxy) may keep any of them; and no browser may guess a content type other
 * than the one declared (a JSON error echoing input must never be sniffed as HTML).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}

const SECURITY_HEADER_LINES = Object.entries(SECURITY_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join("");

/** Node's own answers to requests its parser refuses, by error code; anything else is a 400. */
const PARSER_REFUSALS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: "431 Request Header Fields Too Large",
  HPE_CHUNK_EXTENSIONS_OVERFLOW: "413 Payload Too Large",
  ERR_HTTP_REQUEST_TIMEOUT: "408 Request Timeout",
};

/**
 * The server's `clientError` listener: what node writes by default for a request its parser refuses
 * (or that timed out), with the security headers added, then the connection is closed.
 */
export function answerParserRefusal(error: NodeJS.ErrnoException, socket: Duplex & { bytesWritten?: number }): void {
  if (socket.writable && socket.bytesWritten === 0) {
    const status = PARSER_REFUSALS[error.code ?? ""] ?? "400 Bad Request";
    socket.write(`HTTP/1.1 ${status}\r\n${SECURITY_HEADER_LINES}Connection: close\r\n\r\n`);
  }
  socket.destroy(error);
}
