import { createHash } from "node:crypto";
import type { QueryResult } from "kysely";
import pg from "pg";

/** More distinct hot statements than the service has; past it names start over rather than grow. */
const MAX_NAMES = 256;

/**
 * The hot statements (those prepared-query.ts builds once: verify's token lookup, the key lookup,
 * a creation's inserts) run as named prepared statements: each pooled connection parses and plans
 * one once, then only binds and executes it, where an unnamed statement is parsed and planned on
 * every call. The name is derived from the SQL, so every connection and every host gives one text
 * the same name. Ordinary Kysely queries (built per call, unbounded in number) stay unnamed.
 */
export class NamedStatements {
  readonly #names = new Map<string, string>();

  /** Marks `text` as hot (from now on every connection of this pool runs it as a named statement); returns its name. */
  register(text: string): string {
    let name = this.#names.get(text);
    if (name === undefined) {
      if (this.#names.size >= MAX_NAMES) this.#names.clear();
      name = `bos_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
      this.#names.set(text, name);
    }
    return name;
  }

  /**
   * Runs a hot statement on the pool directly, outside any transaction: the verify and key-lookup
   * path, where Kysely's executor around pg's own pool costs ~15 µs of CPU a query (measured).
   */
  async runOnPool<Row>(pool: pg.Pool, text: string, parameters: readonly unknown[]): Promise<QueryResult<Row>> {
    const result = await pool.query({ name: this.register(text), text, values: parameters as unknown[] });
    return {
      rows: result.rows as Row[],
      ...(result.command === "SELECT" ? {} : { numAffectedRows: BigInt(result.rowCount ?? 0) }),
    };
  }

  nameOf(text: string): string | undefined {
    return this.#names.get(text);
  }

  /**
   * The pg Client class the pool makes its connections with: Kysely hands every query to
   * `client.query(text, values)`, inside a transaction or not, and this is where a hot text gets
   * its name.
   */
  clientClass(): typeof pg.Client {
    const statements = this;
    return class NamingClient extends pg.Client {
      override query(...args: unknown[]): never {
        const [text, values] = args;
        const name =
          typeof text === "string" && Array.isArray(values) && args.length === 2 ? statements.nameOf(text) : undefined;
        const call = super.query as (...rest: unknown[]) => never;
        return name === undefined ? call.apply(this, args) : call.call(this, { name, text, values });
      }
    } as typeof pg.Client;
  }
}
