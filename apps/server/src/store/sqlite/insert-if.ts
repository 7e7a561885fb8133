import type { Queryable } from "../queryable.js";
import { quotedIdentifier } from "../sql-identifier.js";
import type { GuardedInsert, RowInsert } from "../store.js";

const insertTexts = new Map<string, string>();

function insertSql(insert: RowInsert): string {
  const shape = `${insert.table}(${insert.columns.join(",")})`;
  let text = insertTexts.get(shape);
  if (text === undefined) {
    const columns = insert.columns.map(quotedIdentifier).join(", ");
    text = `insert into ${quotedIdentifier(insert.table)} (${columns}) values (${insert.columns.map(() => "?").join(", ")})`;
    insertTexts.set(shape, text);
  }
  return text;
}

/**
 * Store.insertIf's unit on SQLite, run inside a write transaction: the guard, then the inserts if it
 * says proceed. Write transactions are serialized, so what the guard read stays true until commit.
 */
export async function insertIfInUnit<Row extends { proceed: unknown }>(
  trx: Queryable,
  write: GuardedInsert,
): Promise<{ row: Row; inserted: boolean } | undefined> {
  const row = (await trx.run<Row>(write.guard.sql, write.guard.parameters, true)).rows[0];
  if (row === undefined) return undefined;
  if (!row.proceed) return { row, inserted: false };
  for (const insert of write.inserts) await trx.run(insertSql(insert), insert.values, false);
  return { row, inserted: true };
}
