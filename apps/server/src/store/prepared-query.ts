import type { Compilable, Kysely, QueryResult } from "kysely";
import type { Engine, Queryable } from "./queryable.js";
import type { RowInsert } from "./store.js";

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
 * in bench/). The SQL stays the builder's own, compiled once per engine, so it stays portable;
 * the queryable runs it the engine's fastest way (queryable.ts).
 *
 * `build` must give the same SQL whatever its arguments: use them only as values.
 */
export function preparedQuery<Args extends unknown[], Row>(
  build: (db: Queryable, ...args: Args) => Compilable<Row>,
  arity: number = build.length - 1,
): (db: Queryable, ...args: Args) => Promise<QueryResult<Row>> {
  const bind = preparedSql(build, arity);
  return (db, ...args) => {
    const { sql, parameters, isSelect } = bind(db, ...args);
    return db.run<Row>(sql, parameters, isSelect);
  };
}

/** The SQL of a query built once (as preparedQuery), bound to `args` for `db`'s engine, not run. */
export function preparedSql<Args extends unknown[], Row>(
  build: (db: Queryable, ...args: Args) => Compilable<Row>,
  arity: number = build.length - 1,
): (db: Queryable, ...args: Args) => { sql: string; parameters: unknown[]; isSelect: boolean } {
  const compiledByEngine: Partial<Record<Engine, Compiled>> = {};

  const compile = (db: Queryable): Compiled => {
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
    let compiled = compiledByEngine[db.engine];
    if (compiled === undefined) {
      compiled = compile(db);
      compiledByEngine[db.engine] = compiled;
    }
    const parameters = compiled.bindings.map((binding) =>
      "argument" in binding ? args[binding.argument] : binding.constant,
    );
    return { sql: compiled.sql, parameters, isSelect: compiled.isSelect };
  };
}

/** An insert of one row into `table`, its columns bound in the order given. */
export function preparedInsert<Row extends Record<string, unknown>>(
  table: string,
  columns: readonly (keyof Row & string)[],
): (db: Queryable, row: Row) => Promise<unknown> {
  const insert = preparedQuery(
    (db: Queryable, ...values: unknown[]) =>
      (db.kysely as unknown as Kysely<Record<string, Record<string, unknown>>>)
        .insertInto(table)
        .values(Object.fromEntries(columns.map((column, index) => [column, values[index]]))),
    columns.length,
  );
  return (db, row) => insert(db, ...valuesOf(columns, row));
}

/** One row for Store.insertIf, its values in the order of `columns` (absent ones null). */
export function rowInsert<Row extends object>(
  table: string,
  columns: readonly (keyof Row & string)[],
  row: Row,
): RowInsert {
  return { table, columns, values: valuesOf(columns, row) };
}

function valuesOf<Row extends object>(columns: readonly (keyof Row & string)[], row: Row): unknown[] {
  return columns.map((column) => row[column] ?? null);
}
