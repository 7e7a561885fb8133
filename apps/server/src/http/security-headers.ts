import type { ServerResponse } from "node:http";

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

/** The same headers as raw lines, for the answers node's parser errors get (400, 408, 431). */
export const SECURITY_HEADER_LINES = Object.entries(SECURITY_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join("");
