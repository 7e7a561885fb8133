/**
 * Rows per statement when many are written at once: keeps each statement under SQLite's limit on
 * bound parameters (32,766) whatever the number of columns.
 */
export const ROWS_PER_STATEMENT = 500;

/** `items` in consecutive slices of at most `size`. */
export function* chunksOf<T>(items: readonly T[], size: number = ROWS_PER_STATEMENT): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}
