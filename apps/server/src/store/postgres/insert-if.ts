import { quotedIdentifier as quoted } from "../sql-identifier.js";
import type { GuardedInsert } from "../store.js";

/** Composed statements by guard and shape: a handful in all (the service has few such writes). */
const composed = new Map<string, string>();

/**
 * Store.insertIf as one statement: the guard as a CTE, each insert as a data-modifying CTE that
 * selects its values from the guard's row only when it says proceed, then the guard's row with
 * whether the rows went in. One statement is one transaction in autocommit: all of it or none,
 * and a row the guard locks FOR SHARE stays so until it commits. PostgreSQL infers each
 * parameter's type from the column it is inserted into.
 */
export function insertIfSql(write: GuardedInsert): string {
  const shape = `${write.guard.sql}\u0000${write.inserts.map((insert) => `${insert.table}(${insert.columns.join(",")})`).join(";")}`;
  let text = composed.get(shape);
  if (text === undefined) {
    let next = write.guard.parameters.length + 1;
    const parts = write.inserts.map((insert, index) => {
      const values = insert.columns.map(() => `$${next++}`).join(", ");
      const columns = insert.columns.map(quoted).join(", ");
      return `insert_${index} as (insert into ${quoted(insert.table)} (${columns}) select ${values} from guard where proceed returning 1)`;
    });
    text = `with guard as (${write.guard.sql}), ${parts.join(", ")} select guard.*, exists (select 1 from insert_0) as inserted from guard`;
    composed.set(shape, text);
  }
  return text;
}

/** The parameters of insertIfSql's statement, in its order. */
export function insertIfParameters(write: GuardedInsert): unknown[] {
  return [...write.guard.parameters, ...write.inserts.flatMap((insert) => insert.values)];
}
