import type pg from "pg";
import type { AloneOutcome } from "../store.js";

/**
 * Store.runAlone on PostgreSQL: a session advisory lock named after the chore, tried (never waited
 * for) on a connection opened for the purpose, held while `work` runs, then released. Not a pooled
 * connection: `work` runs its own transactions on the pool, which a held connection could starve,
 * and a session lock must stay on the one connection that took it. If this process dies, the
 * server ends its session and frees the lock for another host.
 */
export async function runAlone<T>(
  newClient: () => pg.Client,
  name: string,
  work: () => Promise<T>,
): Promise<AloneOutcome<T>> {
  const client = newClient();
  client.on("error", () => {}); // A lost connection frees the lock; `work` goes on, as harmless as a second purger.
  await client.connect();
  try {
    const { rows } = await client.query<{ taken: boolean }>(
      "select pg_try_advisory_lock(hashtextextended($1, 0)) as taken",
      [`alone:${name}`],
    );
    if (rows[0]?.taken !== true) return { ran: false };
    return { ran: true, value: await work() };
  } finally {
    // Ending the session releases its advisory locks.
    await client.end().catch(() => {});
  }
}
