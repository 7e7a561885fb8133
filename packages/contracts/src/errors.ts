import { z } from "zod";

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
  "TIMEOUT",
  "SERVICE_UNAVAILABLE",
  "INTERNAL_SERVER_ERROR",
]);
export type ErrorCode = z.infer<typeof errorCode>;

/** Per-field messages, keyed by the field's dotted path ("metadata.ip"); `formErrors` has the rest. */
export const validationDetails = z.object({
  fieldErrors: z.record(z.string(), z.array(z.string())),
  formErrors: z.array(z.string()),
});
export type ValidationDetails = z.infer<typeof validationDetails>;

/** The `data` every error response carries, beside tRPC's own `code` and `httpStatus`. */
export const errorData = z.object({
  code: z.string(),
  httpStatus: z.number().optional(),
  path: z.string().optional(),
  fieldErrors: validationDetails.shape.fieldErrors.optional(),
  formErrors: validationDetails.shape.formErrors.optional(),
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
  return path.map((segment) => (typeof segment === "string" && !echoableName(segment) ? hiddenName(segment) : String(segment))).join(".");
}

/** Turns zod issues into field errors; an unknown field is reported under its own name when that is safe to repeat. */
export function validationDetailsOf(error: z.ZodError): ValidationDetails {
  // No prototype: a field named "__proto__" or "constructor" is just another key here.
  const fieldErrors: Record<string, string[]> = Object.create(null);
  const formErrors: string[] = [];
  const add = (key: string, message: string) => {
    if (key === "") formErrors.push(message);
    else (fieldErrors[key] ??= []).push(message);
  };
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const message = echoableName(key) ? `Unknown field "${key}"` : `Unknown field (name not shown: ${key.length} characters)`;
        add(pathKey([...issue.path, key]), message);
      }
    } else {
      add(pathKey(issue.path), issue.message);
    }
  }
  return { fieldErrors, formErrors };
}

/** One line a person can act on, naming the fields at fault. */
export function validationMessageOf(details: ValidationDetails): string {
  const parts = [
    ...details.formErrors,
    ...Object.entries(details.fieldErrors).map(([field, messages]) => `${field}: ${messages.join("; ")}`),
  ];
  return parts.length === 0 ? "Invalid input" : `Invalid input: ${parts.join(". ")}`;
}
