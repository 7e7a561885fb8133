/**
 * Rows per statement when many are written at once: keeps each statement under SQLite's limit on
 * bound parameters (32,766) whatever the number of columns.
 */
const ROWS_PER_STATEMENT = 500;

/** `items` in consecutive slices of at most ROWS_PER_STATEMENT. */
export function* chunksOf<T>(items: readonly T[]): Generator<T[]> {
  for (let start = 0; start < items.length; start += ROWS_PER_STATEMENT)
    yield items.slice(start, start + ROWS_PER_STATEMENT);
}
