import { hostname, networkInterfaces } from "node:os";

/** Addresses that mean "every interface" to a listening server. */
const EVERY_INTERFACE = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * The hosts a browser may open `next dev` at (next.config.ts's `allowedDevOrigins`). Next.js 16
 * refuses its dev resources, the hot-reload socket among them, to a page from any host but
 * localhost; the page then never hydrates, and the billing page stayed on "Loading your billing
 * details…" when opened at http://127.0.0.1:3000. `pnpm dev` listens on HOST (127.0.0.1 unless
 * set), so that host is allowed too; on every interface, so are this machine's addresses and name,
 * as `next dev` prints them ("Network: http://…").
 */
export function allowedDevOrigins(host: string | undefined): string[] {
  const origins = new Set(["localhost", "127.0.0.1", "[::1]"]);
  const listenOn = host?.trim().toLowerCase();
  if (listenOn && EVERY_INTERFACE.has(listenOn)) {
    origins.add(hostname().toLowerCase());
    for (const address of Object.values(networkInterfaces()).flat()) {
      if (address) origins.add(address.family === "IPv6" ? `[${address.address}]` : address.address);
    }
  } else if (listenOn) {
    origins.add(listenOn.includes(":") && !listenOn.startsWith("[") ? `[${listenOn}]` : listenOn);
  }
  return [...origins];
}
