import { type Compilable, CompiledQuery, type Kysely, type QueryResult } from "kysely";
import { type Database, directReaderOf } from "./database.js";
import { writeTransactionStatementsOf } from "./write-transaction.js";

/** Stands for the n-th argument while the query is built once. */
class Placeholder {
  constructor(readonly index: number) {}
}

type Binding = { argument: number } | { constant: unknown };

interface Compiled {
  sql: string;
  bindings: Binding[];
  isSelect: boolean;
}

/**
 * A hot query built once by Kysely's query builder and then only re-bound: building and
 * compiling a query costs ~10 µs, more than running it on a cached SQLite statement (measured
 * in bench/). The SQL stays the builder's own, so it stays portable. Inside a write transaction it
 * runs straight on the writer connection the transaction holds (Kysely's executor around each
 * statement cost ~3 µs, six statements per token creation); a read on the database itself (file
 * databases) runs on the reader connection; anything else goes through Kysely.
 *
 * `build` must give the same SQL whatever its arguments: use them only as values.
 */
export function preparedQuery<Args extends unknown[], Row>(
  build: (db: Database, ...args: Args) => Compilable<Row>,
  arity: number = build.length - 1,
): (db: Database, ...args: Args) => Promise<QueryResult<Row>> {
  // One compilation per SQL dialect (adapter class); SQLite today, PostgreSQL later.
  const compiledByDialect = new Map<unknown, Compiled>();

  const compile = (db: Database): Compiled => {
    const placeholders = Array.from({ length: arity }, (_, index) => new Placeholder(index)) as Args;
    const { sql, parameters, query } = build(db, ...placeholders).compile();
    return {
      sql,
      isSelect: query.kind === "SelectQueryNode",
      bindings: parameters.map((value) =>
        value instanceof Placeholder ? { argument: value.index } : { constant: value },
      ),
    };
  };

  return (db, ...args) => {
    const dialect = db.getExecutor().adapter.constructor;
    let compiled = compiledByDialect.get(dialect);
    if (compiled === undefined) {
      compiled = compile(db);
      compiledByDialect.set(dialect, compiled);
    }
    const parameters = compiled.bindings.map((binding) => ("argument" in binding ? args[binding.argument] : binding.constant));
    const direct = writeTransactionStatementsOf(db) ?? (compiled.isSelect ? directReaderOf(db) : undefined);
    if (direct === undefined) return db.executeQuery<Row>(CompiledQuery.raw(compiled.sql, parameters));
    try {
      return Promise.resolve(direct.execute<Row>(compiled.sql, parameters));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/** An insert of one row into `table`, its columns bound in the order given. */
export function preparedInsert<Row extends Record<string, unknown>>(
  table: string,
  columns: readonly (keyof Row & string)[],
): (db: Database, row: Row) => Promise<unknown> {
  const insert = preparedQuery(
    (db: Database, ...values: unknown[]) =>
      (db as unknown as Kysely<Record<string, Record<string, unknown>>>)
        .insertInto(table)
        .values(Object.fromEntries(columns.map((column, index) => [column, values[index]]))),
    columns.length,
  );
  return (db, row) => insert(db, ...columns.map((column) => row[column] ?? null));
}
