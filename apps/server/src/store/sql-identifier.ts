/** A table or column name as SQL (both engines quote with double quotes). Names come from the code, never from input. */
export function quotedIdentifier(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
