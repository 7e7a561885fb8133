/**
 * An organization's name as compared: trimmed, runs of whitespace made one space, Unicode NFC,
 * lower case. Two names with the same key are the same name to a person ("Example", "example ").
 * The migration 2026-12-02-0040 computed the stored keys the same way; never change this.
 */
export function organizationNameKey(name: string): string {
  return name.normalize("NFC").trim().replace(/\s+/gu, " ").toLowerCase();
}

/** The name as stored: trimmed, runs of whitespace made one space (case kept as typed). */
export function tidyOrganizationName(name: string): string {
  return name.normalize("NFC").trim().replace(/\s+/gu, " ");
}
