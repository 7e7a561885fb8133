import { z } from "zod";
import { boundedJsonObject, storedJsonObject } from "./json-object.js";
import { text } from "./text.js";

/** Field schemas shared by several procedures, each with a message that names the rule. */

export const MAX_EXTERNAL_ID_LENGTH = 255;
export const MAX_METADATA_BYTES = 8 * 1024;

export const externalId = (field: string) =>
  text(field)
    .min(1, { error: `${field} must not be empty` })
    .max(MAX_EXTERNAL_ID_LENGTH, { error: `${field} must be at most ${MAX_EXTERNAL_ID_LENGTH} characters` });

/** Surrounding whitespace is dropped (a pasted address often has some); case is kept as given. */
export const email = text("email")
  .trim()
  .pipe(
    z
      .email({ error: "email must be a valid email address" })
      .max(320, { error: "email must be at most 320 characters" }),
  );

/**
 * Deep enough for any context a merchant attaches (a device inside a request inside a page view),
 * shallow enough that nothing recursive downstream (zod's own output checks, JSON.stringify, a
 * merchant's own parser) comes near a stack limit.
 */
export const MAX_METADATA_DEPTH = 8;
/** Object members plus array items in all: bounds the walk's work before the 8 KiB are counted. */
export const MAX_METADATA_VALUES = 1024;

/** A JSON object of at most 8 KiB once serialized (IP, user agent, anything the merchant wants back). */
export const metadata = boundedJsonObject({
  field: "metadata",
  maxDepth: MAX_METADATA_DEPTH,
  maxValues: MAX_METADATA_VALUES,
  maxBytes: MAX_METADATA_BYTES,
});
export type Metadata = z.infer<typeof metadata>;

/** Metadata as answers carry it back: as stored, whatever limits applied when it was stored. */
export const jsonObject = storedJsonObject("A JSON object, exactly as it was sent when the token was created.");

export const pageLimit = z
  .number({ error: "limit must be a number" })
  .int({ error: "limit must be a whole number" })
  .min(1, { error: "limit must be at least 1" })
  .max(100, { error: "limit must be at most 100" })
  .default(20);

/** Time-ordered ids: a type prefix, then 26 characters of lower-case Crockford base32 (a ULID). */
export const prefixedId = (prefix: string, what: string) =>
  text(what).regex(new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`), { error: `${what} must look like ${prefix}_…` });
