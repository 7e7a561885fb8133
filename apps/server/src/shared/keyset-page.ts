const DEFAULT_PAGE_LIMIT = 20;

/**
 * Keyset pagination: ask the database for one row more than the page holds (`fetchLimit`), then
 * cut; the extra row says whether a next page exists, with no count query. The cursor is the id of
 * the page's last row (ids sort by creation).
 */
export async function keysetPage<Row extends { id: string }, Item>(
  limit: number | undefined,
  fetch: (fetchLimit: number) => Promise<Row[]>,
  toItem: (row: Row) => Item,
): Promise<{ data: Item[]; nextCursor: string | null }> {
  const size = limit ?? DEFAULT_PAGE_LIMIT;
  const rows = await fetch(size + 1);
  const page = rows.slice(0, size);
  return { data: page.map(toItem), nextCursor: rows.length > size ? page[page.length - 1]!.id : null };
}
