import { z } from "zod";

/** Field schemas shared by several procedures, each with a message that names the rule. */

export const MAX_EXTERNAL_ID_LENGTH = 255;
export const MAX_METADATA_BYTES = 8 * 1024;

export const externalId = (field: string) =>
  z
    .string({ error: `${field} must be a string` })
    .min(1, { error: `${field} must not be empty` })
    .max(MAX_EXTERNAL_ID_LENGTH, { error: `${field} must be at most ${MAX_EXTERNAL_ID_LENGTH} characters` });

/** Surrounding whitespace is dropped (a pasted address often has some); case is kept as given. */
export const email = z
  .string({ error: "email must be a string" })
  .trim()
  .pipe(z.email({ error: "email must be a valid email address" }).max(320, { error: "email must be at most 320 characters" }));

const utf8 = new TextEncoder();

/** A JSON object, as answers carry it back (its size was checked when it came in). */
export const jsonObject = z.record(z.string(), z.json(), { error: "metadata must be a JSON object" });

/** A JSON object of at most 8 KiB once serialized (IP, user agent, anything the merchant wants back). */
export const metadata = jsonObject.superRefine((value, ctx) => {
    const bytes = utf8.encode(JSON.stringify(value)).length;
    if (bytes > MAX_METADATA_BYTES) {
      ctx.addIssue({
        code: "custom",
        message: `metadata must be at most ${MAX_METADATA_BYTES} bytes of JSON (got ${bytes})`,
      });
    }
  });
export type Metadata = z.infer<typeof metadata>;

export const pageLimit = z
  .number({ error: "limit must be a number" })
  .int({ error: "limit must be a whole number" })
  .min(1, { error: "limit must be at least 1" })
  .max(100, { error: "limit must be at most 100" })
  .default(20);

/** Time-ordered ids: a type prefix, then 26 characters of lower-case Crockford base32 (a ULID). */
export const prefixedId = (prefix: string, what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .regex(new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`), { error: `${what} must look like ${prefix}_…` });
