/**
 * A Host header this server can build a URL from: a DNS name or IPv4 address, or an IPv6
 * literal in brackets, with an optional port. tRPC's stock adapter builds `http://${host}${url}`
 * and hands it to `new Request`, which throws on anything else (`Host: a@b` carries
 * "credentials"): a 500 that echoed the URL with its query and logged a stack. Such requests get
 * a 400 before anything else reads the header.
 */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** A missing header is valid: HTTP/1.0 may omit it (node refuses HTTP/1.1 requests without one). */
export function isValidHostHeader(host: string | undefined): boolean {
  if (host === undefined) return true;
  return HOST.test(host) && URL.canParse(`http://${host}/`);
}
