import type { ApiUrls } from "./api-urls.js";
import type { Environment } from "./environment.js";
import { environmentOfPrefix, type TokenKind } from "./token-format.js";

// Routing by prefix, with no zod: the browser's session client uses these and nothing else here.

export const DEFAULT_API_URL = "http://localhost:4000";

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
