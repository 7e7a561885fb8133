import { formatToken } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BillingOS, BillingOSError } from "../src/index.js";
import { NOWHERE, rejectionOf, startServerHarness } from "./server-harness.js";

const TEST_KEY = formatToken("secretKey", "test", "T".repeat(43));
const LIVE_KEY = formatToken("secretKey", "live", "L".repeat(43));
const SANDBOX = "https://sandbox.example.test";
const PRODUCTION = "https://api.example.test";

const ENV_NAMES = ["BILLINGOS_SANDBOX_URL", "BILLINGOS_PRODUCTION_URL"] as const;
let savedEnv: Record<string, string | undefined>;
beforeEach(() => {
  savedEnv = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));
  for (const name of ENV_NAMES) delete process.env[name];
});
afterEach(() => {
  for (const name of ENV_NAMES) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

describe("routing by key prefix", () => {
  it("sends sk_live_ keys to the production URL and sk_test_ keys to the sandbox URL", () => {
    expect(new BillingOS({ secretKey: LIVE_KEY, sandboxUrl: SANDBOX, productionUrl: PRODUCTION }).apiUrl).toBe(
      PRODUCTION,
    );
    expect(new BillingOS({ secretKey: TEST_KEY, sandboxUrl: SANDBOX, productionUrl: PRODUCTION }).apiUrl).toBe(SANDBOX);
  });

  it("falls back to BILLINGOS_SANDBOX_URL and BILLINGOS_PRODUCTION_URL", () => {
    process.env.BILLINGOS_SANDBOX_URL = SANDBOX;
    process.env.BILLINGOS_PRODUCTION_URL = PRODUCTION;
    expect(new BillingOS({ secretKey: TEST_KEY }).apiUrl).toBe(SANDBOX);
    expect(new BillingOS({ secretKey: LIVE_KEY }).apiUrl).toBe(PRODUCTION);
  });

  it("prefers explicit options over the environment", () => {
    process.env.BILLINGOS_SANDBOX_URL = "https://from-env.example.test";
    process.env.BILLINGOS_PRODUCTION_URL = "https://from-env.example.test";
    expect(new BillingOS({ secretKey: TEST_KEY, sandboxUrl: SANDBOX }).apiUrl).toBe(SANDBOX);
    expect(new BillingOS({ secretKey: LIVE_KEY, productionUrl: PRODUCTION }).apiUrl).toBe(PRODUCTION);
  });

  it("defaults to http://localhost:4000, also when the variables are empty", () => {
    expect(new BillingOS({ secretKey: TEST_KEY }).apiUrl).toBe("http://localhost:4000");
    expect(new BillingOS({ secretKey: LIVE_KEY }).apiUrl).toBe("http://localhost:4000");
    process.env.BILLINGOS_SANDBOX_URL = "";
    expect(new BillingOS({ secretKey: TEST_KEY }).apiUrl).toBe("http://localhost:4000");
  });

  it("drops trailing slashes", () => {
    expect(new BillingOS({ secretKey: TEST_KEY, sandboxUrl: `${SANDBOX}/` }).apiUrl).toBe(SANDBOX);
  });

  it("refuses a URL that is not http(s), naming the option", () => {
    let error: unknown;
    try {
      new BillingOS({ secretKey: TEST_KEY, sandboxUrl: "ftp://example.test" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BillingOSError);
    expect(error).toMatchObject({ code: "BAD_REQUEST" });
    expect((error as BillingOSError).fieldErrors.sandboxUrl?.[0]).toMatch(/http\(s\) URL/);
  });
});

describe("routing on the wire", () => {
  it("a test key reaches the sandbox server while a live key goes to production", async () => {
    const h = await startServerHarness();
    try {
      const urls = { sandboxUrl: h.url, productionUrl: NOWHERE };
      const test = new BillingOS({ secretKey: h.testKey.secretKey, ...urls });
      const live = new BillingOS({ secretKey: h.liveKey.secretKey, ...urls });

      const created = await test.createSessionToken({ externalUserId: "u1" });
      expect(created.sessionToken.startsWith("bos_session_test_")).toBe(true);
      expect(await rejectionOf(() => live.createSessionToken({ externalUserId: "u1" }))).toMatchObject({
        code: "CONNECTION_FAILED",
      });
    } finally {
      await h.close();
    }
  });
});
