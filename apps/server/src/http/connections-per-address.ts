import type { Server } from "node:net";

/**
 * Open connections per client address. MAX_CONNECTIONS alone is a pool anyone may fill: a few
 * thousand idle sockets from one host (reconnecting as they are closed) left other clients' new
 * connections refused. Past `max` connections from one address, a new one from it is closed as it
 * is accepted; other addresses are unaffected. An IPv6 client is counted by its /64, which one
 * host or customer is commonly given whole. Behind a reverse proxy every client shares the
 * proxy's address: turn this off (0) or raise it there, and cap per client at the proxy.
 *
 * The counts are a Map that drops an address when its last connection closes, so it holds only
 * addresses with a connection open and cannot grow past the number of open connections.
 */
export function limitConnectionsPerAddress(
  server: Server,
  max: number,
): { openFrom(address: string): number; addresses(): number } {
  const open = new Map<string, number>();
  server.on("connection", (socket) => {
    const address = addressGroup(socket.remoteAddress ?? "");
    const count = open.get(address) ?? 0;
    if (max > 0 && count >= max) {
      // Closed before a byte is read: the client learns nothing but that it must wait.
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once("close", () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
  return { openFrom: (address) => open.get(addressGroup(address)) ?? 0, addresses: () => open.size };
}

/** The key a client address is counted under: an IPv4 address (IPv4-mapped too) as is, an IPv6 address by its /64. */
export function addressGroup(address: string): string {
  const bare = address.split("%", 1)[0]!.toLowerCase();
  if (!bare.includes(":")) return bare;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped) return mapped[1]!;
  const [head = "", tail] = bare.split("::", 2);
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups =
    tail === undefined
      ? headGroups
      : [
          ...headGroups,
          ...Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill("0"),
          ...tailGroups,
        ];
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(":")}::/64`;
}
