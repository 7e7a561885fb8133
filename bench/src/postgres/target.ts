/** Where the bench finds PostgreSQL, and how to name a database of its own on that server. */
export interface PostgresTarget {
  /** The server, for messages: `postgres://user@host:port` (never the password). */
  description: string;
  /** A URL for `database` on the same server, with the same credentials. */
  urlFor(database: string): string;
  /** The database the bench connects to first (to create and drop its own). */
  maintenanceUrl: string;
}

/** The one line printed when no PostgreSQL is named. */
export const POSTGRES_HINT =
  "PostgreSQL scenarios skipped: no DATABASE_URL or PG* variables; run `pg_virtualenv -- pnpm bench` for them (a throwaway cluster on loopback)";

const PROTOCOLS = new Set(["postgres:", "postgresql:"]);

function fromUrl(text: string): PostgresTarget {
  const url = new URL(text);
  if (!PROTOCOLS.has(url.protocol))
    throw new Error(`DATABASE_URL must start with postgres:// (got ${url.protocol}//…)`);
  const urlFor = (database: string) => {
    const copy = new URL(url.href);
    copy.pathname = `/${encodeURIComponent(database)}`;
    return copy.href;
  };
  const user = url.username ? `${decodeURIComponent(url.username)}@` : "";
  return {
    description: `postgres://${user}${url.host}`,
    urlFor,
    maintenanceUrl: url.pathname.length > 1 ? url.href : urlFor("postgres"),
  };
}

/**
 * The PostgreSQL named by the environment: DATABASE_URL first, else libpq's PGHOST, PGPORT, PGUSER,
 * PGPASSWORD and PGDATABASE (what `pg_virtualenv` exports); undefined when neither names one. The
 * bench never uses the named database itself: it creates one of its own beside it.
 */
export function postgresTargetFromEnv(env: NodeJS.ProcessEnv): PostgresTarget | undefined {
  if (env.DATABASE_URL) return fromUrl(env.DATABASE_URL);
  if (!env.PGHOST && !env.PGPORT && !env.PGDATABASE) return undefined;
  const host = env.PGHOST || "localhost";
  const port = env.PGPORT || "5432";
  const user = env.PGUSER ? encodeURIComponent(env.PGUSER) : "";
  const password = env.PGPASSWORD ? `:${encodeURIComponent(env.PGPASSWORD)}` : "";
  const credentials = user || password ? `${user}${password}@` : "";
  // A socket directory goes in the host parameter, which pg takes over the URL's host (a URL's host
  // cannot hold a path, and WHATWG URLs, as the server parses them, refuse credentials without a host).
  const socket = host.startsWith("/");
  const urlFor = (database: string) =>
    socket
      ? `postgres://${credentials}localhost/${encodeURIComponent(database)}?host=${encodeURIComponent(host)}&port=${port}`
      : `postgres://${credentials}${host.includes(":") ? `[${host}]` : host}:${port}/${encodeURIComponent(database)}`;
  return {
    description: `postgres://${env.PGUSER ? `${env.PGUSER}@` : ""}${host}:${port}`,
    urlFor,
    maintenanceUrl: urlFor(env.PGDATABASE || "postgres"),
  };
}
