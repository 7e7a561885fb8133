import { z } from "zod";

/** An instant: an ISO 8601 UTC string on the wire, a Date in code (z.encode / z.decode). */
export const timestamp = z.codec(z.iso.datetime(), z.date(), {
  decode: (iso) => new Date(iso),
  encode: (date) => date.toISOString(),
});
