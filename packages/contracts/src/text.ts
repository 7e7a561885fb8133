import { z } from "zod";

/**
 * Strings are identifiers here (user ids, emails, metadata keys): two different inputs must never
 * become one. A lone UTF-16 surrogate ("\ud800" in JSON) cannot be encoded as UTF-8, so storing it
 * would replace it with U+FFFD and merge it with every other broken string, or hand it back changed.
 * Every string an input carries is therefore refused unless it is well-formed Unicode.
 */

/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The portable check: what String.prototype.isWellFormed answers, by regex. */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

type MaybeWellFormed = { isWellFormed?: () => boolean };

/** String.prototype.isWellFormed where the engine has it (Node 20, current browsers), the regex elsewhere. */
export function isWellFormedUnicode(value: string): boolean {
  const native = (value as unknown as MaybeWellFormed).isWellFormed;
  return typeof native === "function" ? native.call(value) : !hasLoneSurrogate(value);
}

export const wellFormedMessage = (field: string) => `${field} must be well-formed Unicode (no lone surrogates)`;

/**
 * PostgreSQL's text cannot hold U+0000 (SQLite's can): a NUL stored on one engine could not be on
 * the other, so it is refused on both. No identifier, email or name has a use for it. (Metadata may
 * carry it: it is stored as JSON, where it is the escape \u0000.)
 */
export const NUL = "\u0000";

export const nulMessage = (field: string) => `${field} must not contain the NUL character (U+0000)`;

/**
 * A string field that is only read, never stored (a token to check): the type error and the
 * well-formedness rule both name the field.
 */
export const wellFormedText = (field: string) =>
  z
    .string({ error: `${field} must be a string` })
    // Aborts: length messages about a string that cannot be stored add nothing.
    .refine(isWellFormedUnicode, { error: wellFormedMessage(field), abort: true });

/** A string field that may be stored: well-formed, and without NUL. Add length rules after. */
export const text = (field: string) =>
  wellFormedText(field).refine((value) => !value.includes(NUL), { error: nulMessage(field), abort: true });
