import { type ApiUrls, apiUrls, DEFAULT_API_URL } from "@billingos/contracts";
import { billingOSErrorFromValidation } from "./trpc-errors.js";

function fromEnvironment(name: string): string | undefined {
  const value = typeof process === "undefined" ? undefined : process.env[name];
  return value === "" ? undefined : value;
}

/** Explicit options first, then BILLINGOS_SANDBOX_URL / BILLINGOS_PRODUCTION_URL, then the local server. */
export function resolveApiUrls(options: Partial<ApiUrls>): ApiUrls {
  const urls = apiUrls.safeParse({
    sandboxUrl: options.sandboxUrl ?? fromEnvironment("BILLINGOS_SANDBOX_URL") ?? DEFAULT_API_URL,
    productionUrl: options.productionUrl ?? fromEnvironment("BILLINGOS_PRODUCTION_URL") ?? DEFAULT_API_URL,
  });
  if (!urls.success) throw billingOSErrorFromValidation(urls.error);
  return {
    sandboxUrl: urls.data.sandboxUrl.replace(/\/+$/, ""),
    productionUrl: urls.data.productionUrl.replace(/\/+$/, ""),
  };
}
