import { z } from "zod";
import type { Environment } from "./environment.js";
import { environmentOfPrefix, type TokenKind } from "./token-format.js";

export const DEFAULT_API_URL = "http://localhost:4000";

export const apiUrls = z.strictObject({
  sandboxUrl: z.url({ protocol: /^https?$/, error: "sandboxUrl must be an http(s) URL" }),
  productionUrl: z.url({ protocol: /^https?$/, error: "productionUrl must be an http(s) URL" }),
});
export type ApiUrls = z.infer<typeof apiUrls>;

/** Test credentials talk to the sandbox, live credentials to production. */
export function apiUrlForEnvironment(environment: Environment, urls: ApiUrls): string {
  return environment === "test" ? urls.sandboxUrl : urls.productionUrl;
}

/**
 * The API URL a credential must be sent to, chosen by its prefix; null when the value is not a
 * credential of that kind at all (so it must not be sent anywhere).
 */
export function apiUrlForCredential(credential: string, kind: TokenKind, urls: ApiUrls): string | null {
  const environment = environmentOfPrefix(credential, kind);
  return environment === null ? null : apiUrlForEnvironment(environment, urls);
}
