import pg from "pg";
import { StoreOpenError } from "../store-open-error.js";

/** Where the pool connects, and how to speak of it without leaking the password. */
export interface ConnectionTarget {
  /** What pg needs to connect: the URL, or nothing (pg then reads PGHOST, PGUSER… itself). */
  readonly connectionString: string | undefined;
  /** `postgres://user@host:port/database`, never with a password: for messages. */
  readonly description: string;
  /** `text` with every occurrence of the password (raw or URL-encoded) masked. */
  redact(text: string): string;
}

const URL_PROTOCOLS = new Set(["postgres:", "postgresql:"]);

/** The URL with its password replaced, for a message about a URL that could not even be used. */
function maskedUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#:@]*:)[^@/?#]*@/i, "$1***@");
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreOpenError(
      `DATABASE_URL is not a valid URL (${maskedUrl(url)}); expected postgres://user:password@host:5432/database`,
    );
  }
  if (!URL_PROTOCOLS.has(parsed.protocol)) {
    throw new StoreOpenError(
      `DATABASE_URL must start with postgres:// or postgresql:// (got ${parsed.protocol}//…); expected postgres://user:password@host:5432/database`,
    );
  }
}

function escapeForRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Resolves the target as pg will: from `url` when given (postgres:// or postgresql://), else
 * from the PG* variables and pg's defaults. A throwaway Client (never connected) reads the
 * parameters, so the description names what pg will really try.
 */
export function connectionTarget(url: string | undefined): ConnectionTarget {
  if (url !== undefined) checkUrl(url);
  let probe: pg.Client;
  try {
    probe = new pg.Client(url === undefined ? {} : { connectionString: url });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreOpenError(`DATABASE_URL cannot be used (${maskedUrl(url ?? "")}): ${reason}`, { cause: error });
  }
  const password = typeof probe.password === "string" ? probe.password : "";
  const secrets = password === "" ? [] : [...new Set([password, encodeURIComponent(password)])];
  const host = probe.host.startsWith("/") ? `[${probe.host}]` : probe.host;
  return {
    connectionString: url,
    description: `postgres://${probe.user ?? ""}@${host}:${probe.port}/${probe.database ?? ""}`,
    redact: (text) =>
      secrets.reduce(
        (masked, secret) => masked.replace(new RegExp(escapeForRegExp(secret), "g"), "***"),
        maskedUrl(text),
      ),
  };
}
