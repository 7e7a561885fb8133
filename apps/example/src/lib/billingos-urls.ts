// Read in the browser: Next.js inlines NEXT_PUBLIC_* values when it builds (or starts `next dev`).
// The session client picks one of the two by the token's prefix (bos_session_test_ / bos_session_live_).
const DEFAULT_API_URL = "http://localhost:4000";

export const billingosUrls = {
  sandboxUrl: process.env.NEXT_PUBLIC_BILLINGOS_SANDBOX_URL || DEFAULT_API_URL,
  productionUrl: process.env.NEXT_PUBLIC_BILLINGOS_PRODUCTION_URL || DEFAULT_API_URL,
};
