import { describe, expect, it } from "vitest";
import {
  apiUrlForCredential,
  apiUrlForEnvironment,
  apiUrls,
  DEFAULT_API_URL,
  validationDetailsOf,
  validationMessageOf,
} from "../src/index.js";
import { randomToken } from "./support/random-token.js";

const urls = { sandboxUrl: "https://sandbox.billingos.test", productionUrl: "https://api.billingos.test" };

describe("apiUrlForCredential (SPEC §2, §4: route by prefix)", () => {
  it.each([
    ["sk_test_", "secretKey", urls.sandboxUrl],
    ["sk_live_", "secretKey", urls.productionUrl],
    ["bos_session_test_", "sessionToken", urls.sandboxUrl],
    ["bos_session_live_", "sessionToken", urls.productionUrl],
  ] as const)("%s… goes to %s", (prefix, kind, expected) => {
    expect(apiUrlForCredential(`${prefix}abc`, kind, urls)).toBe(expected);
  });

  it("routes real tokens by their environment", () => {
    expect(apiUrlForCredential(randomToken("secretKey", "test"), "secretKey", urls)).toBe(urls.sandboxUrl);
    expect(apiUrlForCredential(randomToken("secretKey", "live"), "secretKey", urls)).toBe(urls.productionUrl);
    expect(apiUrlForCredential(randomToken("sessionToken", "test"), "sessionToken", urls)).toBe(urls.sandboxUrl);
    expect(apiUrlForCredential(randomToken("sessionToken", "live"), "sessionToken", urls)).toBe(urls.productionUrl);
  });

  // A value that is not a credential of that kind must not be sent anywhere.
  it.each([
    ["pk_test_abc", "secretKey"],
    ["pk_live_abc", "secretKey"],
    ["garbage", "secretKey"],
    ["", "secretKey"],
    ["sk_testx_abc", "secretKey"],
    ["sk_livex_abc", "secretKey"],
    ["SK_LIVE_abc", "secretKey"],
    ["bos_session_test_abc", "secretKey"],
    ["sk_live_abc", "sessionToken"],
    ["bos_session_testx_abc", "sessionToken"],
    ["bos_sessiontest_abc", "sessionToken"],
  ] as const)("%j as %s is null", (credential, kind) => {
    expect(apiUrlForCredential(credential, kind, urls)).toBeNull();
  });

  it("apiUrlForEnvironment maps test to sandbox and live to production", () => {
    expect(apiUrlForEnvironment("test", urls)).toBe(urls.sandboxUrl);
    expect(apiUrlForEnvironment("live", urls)).toBe(urls.productionUrl);
  });
});

describe("apiUrls schema", () => {
  it("accepts http and https URLs, including the default", () => {
    expect(apiUrls.safeParse({ sandboxUrl: DEFAULT_API_URL, productionUrl: DEFAULT_API_URL }).success).toBe(true);
    expect(apiUrls.safeParse(urls).success).toBe(true);
  });

  // Credentials must only ever travel over http(s).
  it.each(["ftp://example.com", "javascript:alert(1)", "file:///etc/passwd", "ws://example.com", "not a url", ""])(
    "rejects %j",
    (bad) => {
      const result = apiUrls.safeParse({ sandboxUrl: bad, productionUrl: urls.productionUrl });
      expect(result.success).toBe(false);
      if (result.success) return;
      const details = validationDetailsOf(result.error);
      expect(Object.keys(details.fieldErrors)).toEqual(["sandboxUrl"]);
      expect(details.fieldErrors.sandboxUrl).toEqual(["sandboxUrl must be an http(s) URL"]);
      expect(validationMessageOf(details)).toContain("sandboxUrl");

      const production = apiUrls.safeParse({ sandboxUrl: urls.sandboxUrl, productionUrl: bad });
      expect(production.success).toBe(false);
      if (!production.success)
        expect(validationDetailsOf(production.error).fieldErrors).toHaveProperty("productionUrl");
    },
  );

  it("rejects unknown fields", () => {
    const result = apiUrls.safeParse({ ...urls, sandboxURL: urls.sandboxUrl });
    expect(result.success).toBe(false);
    if (!result.success) expect(validationDetailsOf(result.error).fieldErrors).toHaveProperty("sandboxURL");
  });
});
