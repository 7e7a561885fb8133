import { createHash } from "node:crypto";
import type { QueryResult } from "kysely";
import type pg from "pg";

/** More distinct hot statements than the service has; past it names start over rather than grow. */
const MAX_NAMES = 256;

/**
 * The hot statements outside a transaction (verify's token lookup, the key lookup) run as named
 * prepared statements: each pooled connection parses and plans one once, then only binds and
 * executes it (an unnamed statement is parsed and planned on every call). The name is derived from
 * the SQL, so every connection and every host gives one text the same name.
 */
export class NamedStatements {
  readonly #names = new Map<string, string>();

  constructor(private readonly pool: pg.Pool) {}

  async run<Row>(text: string, parameters: readonly unknown[]): Promise<QueryResult<Row>> {
    const result = await this.pool.query({ name: this.#nameOf(text), text, values: parameters as unknown[] });
    return { rows: result.rows as Row[], ...(result.command === "SELECT" ? {} : { numAffectedRows: BigInt(result.rowCount ?? 0) }) };
  }

  #nameOf(text: string): string {
    let name = this.#names.get(text);
    if (name === undefined) {
      if (this.#names.size >= MAX_NAMES) this.#names.clear();
      name = `bos_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
      this.#names.set(text, name);
    }
    return name;
  }
}
