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

function pathKey(path: readonly PropertyKey[]): string {
  return path.map(String).join(".");
}

/** Turns zod issues into field errors; an unknown field is reported under its own name. */
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
      for (const key of issue.keys) add(pathKey([...issue.path, key]), `Unknown field "${key}"`);
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
