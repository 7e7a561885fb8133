import { z } from "zod";
import { isTooManyFieldsParams } from "./input-object.js";

/** The error codes the API answers with; they are tRPC's codes, so HTTP statuses follow from them. */
export const errorCode = z.enum([
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "TOO_MANY_REQUESTS",
  "METHOD_NOT_SUPPORTED",
  /** A POST whose Content-Type is not application/json. */
  "UNSUPPORTED_MEDIA_TYPE",
  "TIMEOUT",
  "SERVICE_UNAVAILABLE",
  "INTERNAL_SERVER_ERROR",
]);
export type ErrorCode = z.infer<typeof errorCode>;

/**
 * Per-field messages, keyed by the field's dotted path ("metadata.ip"); `formErrors` has the rest.
 * Bounded whatever the input (see MAX_FIELD_ERRORS): what is not listed is counted.
 */
export const validationDetails = z.object({
  fieldErrors: z.record(z.string(), z.array(z.string())),
  formErrors: z.array(z.string()),
  /** Unknown fields beyond those listed in `fieldErrors`. */
  unlistedUnknownFields: z.number().int().positive().optional(),
  /** Other problems beyond those listed (a field's further messages, fields past the limit). */
  unlistedProblems: z.number().int().positive().optional(),
});
export type ValidationDetails = z.infer<typeof validationDetails>;

/** The `data` every error response carries, beside tRPC's own `code` and `httpStatus`. */
export const errorData = z.object({
  code: z.string(),
  httpStatus: z.number().optional(),
  path: z.string().optional(),
  fieldErrors: validationDetails.shape.fieldErrors.optional(),
  formErrors: validationDetails.shape.formErrors.optional(),
  unlistedUnknownFields: validationDetails.shape.unlistedUnknownFields,
  unlistedProblems: validationDetails.shape.unlistedProblems,
  /** With TOO_MANY_REQUESTS or SERVICE_UNAVAILABLE: seconds to wait (also sent as the Retry-After header). */
  retryAfterSeconds: z.number().int().positive().optional(),
});
export type ErrorData = z.infer<typeof errorData>;

/** Longer than any field name of this API (the longest, externalOrganizationId, has 22 characters). */
export const MAX_ECHOED_NAME_LENGTH = 32;

/** sk_…, pk_…, bos_session_… at the start of a word (so "task_id" is still a name). */
const CREDENTIAL_SHAPED = /(?:^|[^a-z0-9])(?:sk|pk|bos)_/i;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * A name the caller sent (an unknown field, a metadata key) is repeated back only if it is short,
 * printable ASCII and not shaped like a credential: a token pasted as a field name must not come
 * back in the answer (nor in a proxy's log of it). Anything else is described, not shown.
 */
export function echoableName(name: string): boolean {
  if (name.length > MAX_ECHOED_NAME_LENGTH || !PRINTABLE_ASCII.test(name)) return false;
  return !CREDENTIAL_SHAPED.test(name);
}

/** How a name that is not repeated back is shown instead: its length only. */
export const hiddenName = (name: string) => `[name not shown: ${name.length} characters]`;

function pathKey(path: readonly PropertyKey[]): string {
  return path
    .map((segment) => (typeof segment === "string" && !echoableName(segment) ? hiddenName(segment) : String(segment)))
    .join(".");
}

/**
 * An error answer must stay small whatever the input: a body of 95,000 unknown keys once came back
 * as a 6 MB answer listing every one of them (an amplifier, and memory held per request). At most
 * this many fields are listed; the rest are counted.
 */
export const MAX_FIELD_ERRORS = 20;
/** Messages kept per field (an array item can fail several rules at once). */
export const MAX_MESSAGES_PER_FIELD = 3;
/** Form-level messages kept (a refine's "Give exactly one of …"). */
export const MAX_FORM_ERRORS = 5;
/** Longer messages (a custom check quoting its input) are cut to this many characters. */
export const MAX_ERROR_MESSAGE_LENGTH = 200;
/** Fields the one-line message names; `fieldErrors` lists up to MAX_FIELD_ERRORS. */
export const MAX_FIELDS_IN_MESSAGE = 10;

const UNKNOWN_FIELD = "Unknown field";

const bounded = (message: string) =>
  message.length <= MAX_ERROR_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_ERROR_MESSAGE_LENGTH - 1)}…`;

/** The unknown keys an issue reports: zod's own unrecognized_keys, or inputObject's gate (first keys and a count). */
function unknownFieldsOf(issue: z.core.$ZodIssue): { keys: readonly string[]; count: number } | null {
  if (issue.code === "unrecognized_keys") return { keys: issue.keys, count: issue.keys.length };
  if (issue.code === "custom" && isTooManyFieldsParams(issue.params)) {
    return { keys: issue.params.unknownFields, count: issue.params.unknownFieldCount };
  }
  return null;
}

/** Turns zod issues into field errors; an unknown field is reported under its own name when that is safe to repeat. */
export function validationDetailsOf(error: z.ZodError): ValidationDetails {
  // No prototype: a field named "__proto__" or "constructor" is just another key here.
  const fieldErrors: Record<string, string[]> = Object.create(null);
  const formErrors: string[] = [];
  let listedFields = 0;
  let unlistedUnknownFields = 0;
  let unlistedProblems = 0;
  /** Whether the message was listed (false: over a limit, and counted instead). */
  const add = (key: string, message: string): boolean => {
    if (key === "") {
      if (formErrors.length >= MAX_FORM_ERRORS) return false;
      formErrors.push(bounded(message));
      return true;
    }
    const messages = fieldErrors[key];
    if (messages === undefined) {
      if (listedFields >= MAX_FIELD_ERRORS) return false;
      listedFields += 1;
      fieldErrors[key] = [bounded(message)];
      return true;
    }
    if (messages.length >= MAX_MESSAGES_PER_FIELD) return false;
    messages.push(bounded(message));
    return true;
  };
  for (const issue of error.issues) {
    const unknown = unknownFieldsOf(issue);
    if (unknown !== null) {
      // One issue holds every unknown key: look at no more of them than can be listed.
      const room = Math.max(0, MAX_FIELD_ERRORS - listedFields);
      const listed = unknown.keys.slice(0, room);
      for (const key of listed) {
        const message = echoableName(key)
          ? `${UNKNOWN_FIELD} "${key}"`
          : `${UNKNOWN_FIELD} (name not shown: ${key.length} characters)`;
        if (!add(pathKey([...issue.path, key]), message)) unlistedUnknownFields += 1;
      }
      unlistedUnknownFields += unknown.count - listed.length;
    } else if (!add(pathKey(issue.path), issue.message)) {
      unlistedProblems += 1;
    }
  }
  return {
    fieldErrors,
    formErrors,
    ...(unlistedUnknownFields > 0 ? { unlistedUnknownFields } : {}),
    ...(unlistedProblems > 0 ? { unlistedProblems } : {}),
  };
}

const isUnknownFieldEntry = (messages: readonly string[]) =>
  messages.every((message) => message.startsWith(UNKNOWN_FIELD));
const count = (n: number) => n.toLocaleString("en-US");

/** One line a person can act on, naming the first fields at fault and counting the rest. */
export function validationMessageOf(details: ValidationDetails): string {
  const entries = Object.entries(details.fieldErrors);
  const named = entries.slice(0, MAX_FIELDS_IN_MESSAGE);
  const parts = [...details.formErrors, ...named.map(([field, messages]) => `${field}: ${messages.join("; ")}`)];
  if (parts.length === 0) return "Invalid input";
  const unnamed = entries.slice(MAX_FIELDS_IN_MESSAGE);
  const moreUnknown =
    unnamed.filter(([, messages]) => isUnknownFieldEntry(messages)).length + (details.unlistedUnknownFields ?? 0);
  const moreOther =
    unnamed.length -
    unnamed.filter(([, messages]) => isUnknownFieldEntry(messages)).length +
    (details.unlistedProblems ?? 0);
  const more = [
    ...(moreUnknown > 0 ? [`${count(moreUnknown)} more unknown field${moreUnknown === 1 ? "" : "s"}`] : []),
    ...(moreOther > 0 ? [`${count(moreOther)} more problem${moreOther === 1 ? "" : "s"}`] : []),
  ];
  return `Invalid input: ${parts.join(". ")}${more.length === 0 ? "" : `. … and ${more.join(" and ")}`}`;
}
