import type { Kysely } from "kysely";

// Frozen. email_normalized was `trim().toLowerCase()`, which folds characters that are not ASCII
// letters onto ASCII letters (KELVIN SIGN U+212A → "k", U+0130 → "i̇"), so two different mailboxes
// could match. It is now trimmed with only A–Z lower-cased; this recomputes every stored value.
// The rule is copied here, not imported, so that this migration keeps meaning what it meant.

const PAGE = 1_000;

function asciiNormalizedEmail(email: string | null): string | null {
  const trimmed = email?.trim() ?? "";
  return trimmed === "" ? null : trimmed.replace(/[A-Z]/g, (letter) => String.fromCharCode(letter.charCodeAt(0) + 32));
}

export async function up(db: Kysely<any>): Promise<void> {
  // Pages in id order, so memory stays bounded whatever the number of customers. Only a value that
  // changes is written: an address that is ASCII already normalizes exactly as before.
  let after = "";
  for (;;) {
    const rows: { id: string; email: string | null; email_normalized: string | null }[] = await db
      .selectFrom("imported_customers")
      .select(["id", "email", "email_normalized"])
      .where("id", ">", after)
      .orderBy("id")
      .limit(PAGE)
      .execute();
    for (const row of rows) {
      const normalized = asciiNormalizedEmail(row.email);
      if (normalized !== row.email_normalized) {
        await db
          .updateTable("imported_customers")
          .set({ email_normalized: normalized })
          .where("id", "=", row.id)
          .execute();
      }
    }
    if (rows.length < PAGE) return;
    after = rows.at(-1)!.id;
  }
}

export async function down(): Promise<void> {
  // Not reversible: the Unicode-folded values are the defect this migration removes.
}
