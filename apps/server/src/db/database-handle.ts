import type { Kysely } from "kysely";
import type { DirectReader, DirectStatements } from "./direct-statements.js";
import type { DatabaseSchema } from "./schema.js";

/** The handle every repository takes: the database, or a transaction on it. */
export type Database = Kysely<DatabaseSchema>;

const readers = new WeakMap<object, DirectReader>();
const writers = new WeakMap<object, DirectStatements>();

/** Records the connections `openDatabase` made for a handle (the reader only for a file database). */
export function registerConnections(db: Database, writer: DirectStatements, reader?: DirectReader): void {
  writers.set(db, writer);
  if (reader !== undefined) readers.set(db, reader);
}

/**
 * The reader of a database as `openDatabase` returned it; undefined for a transaction or a
 * connection-bound handle (whose reads must see their own uncommitted writes) and for :memory:.
 */
export function directReaderOf(db: Database): DirectReader | undefined {
  return readers.get(db);
}

/** The writer connection's statements of a database as `openDatabase` returned it. */
export function directWriterOf(db: Database): DirectStatements | undefined {
  return writers.get(db);
}
