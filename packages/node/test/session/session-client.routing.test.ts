import { formatToken } from "@billingos/contracts";
import { describe, expect, it } from "vitest";
import { BillingOSError, BillingOSSession, createSessionClient } from "../../src/session/index.js";

// Routing by the token's prefix (SPEC §4), without a server: construction alone decides.

const BODY = "A".repeat(43);
const TEST_TOKEN = formatToken("sessionToken", "test", BODY);
const LIVE_TOKEN = formatToken("sessionToken", "live", BODY);
const SANDBOX = "https://sandbox.billingos.example";
const PRODUCTION = "https://api.billingos.example";

/** What the constructor threw, or a failure if it did not throw. */
function constructionError(sessionToken: string): BillingOSError {
  try {
    createSessionClient({ sessionToken, sandboxUrl: SANDBOX, productionUrl: PRODUCTION });
  } catch (error) {
    expect(error).toBeInstanceOf(BillingOSError);
    return error as BillingOSError;
  }
  throw new Error(`expected createSessionClient to refuse ${JSON.stringify(sessionToken)}`);
}

describe("createSessionClient routes by the token's prefix", () => {
  it("sends bos_session_test_ tokens to the sandbox URL", () => {
    expect(
      createSessionClient({ sessionToken: TEST_TOKEN, sandboxUrl: SANDBOX, productionUrl: PRODUCTION }).apiUrl,
    ).toBe(SANDBOX);
  });

  it("sends bos_session_live_ tokens to the production URL", () => {
    expect(
      createSessionClient({ sessionToken: LIVE_TOKEN, sandboxUrl: SANDBOX, productionUrl: PRODUCTION }).apiUrl,
    ).toBe(PRODUCTION);
  });

  it("drops a trailing slash from the configured URL", () => {
    expect(
      createSessionClient({ sessionToken: LIVE_TOKEN, sandboxUrl: SANDBOX, productionUrl: `${PRODUCTION}/` }).apiUrl,
    ).toBe(PRODUCTION);
  });

  it("defaults both URLs to the local server", () => {
    expect(createSessionClient({ sessionToken: TEST_TOKEN }).apiUrl).toBe("http://localhost:4000");
    expect(createSessionClient({ sessionToken: LIVE_TOKEN }).apiUrl).toBe("http://localhost:4000");
  });

  it("createSessionClient and new BillingOSSession are the same thing", () => {
    const client = createSessionClient({ sessionToken: TEST_TOKEN, sandboxUrl: SANDBOX, productionUrl: PRODUCTION });
    expect(client).toBeInstanceOf(BillingOSSession);
    expect(
      new BillingOSSession({ sessionToken: TEST_TOKEN, sandboxUrl: SANDBOX, productionUrl: PRODUCTION }).apiUrl,
    ).toBe(client.apiUrl);
  });
});

describe("createSessionClient refuses anything that is not a session token, at construction", () => {
  const secretKey = formatToken("secretKey", "test", BODY);
  const cases: Array<[string, string]> = [
    ["a test secret key", secretKey],
    ["a live secret key", formatToken("secretKey", "live", BODY)],
    ["a publishable key", `pk_test_${BODY}`],
    ["an empty string", ""],
    ["an unknown environment", TEST_TOKEN.replace("bos_session_test_", "bos_session_prod_")],
    ["a Bearer header value", `Bearer ${TEST_TOKEN}`],
    ["leading whitespace", ` ${TEST_TOKEN}`],
    ["an upper-cased prefix", TEST_TOKEN.replace("bos_session_test_", "BOS_SESSION_TEST_")],
  ];
  for (const [what, value] of cases) {
    it(`refuses ${what} with UNAUTHORIZED`, () => {
      // Refused: only bos_session_test_… / bos_session_live_… may be sent, so nothing else leaves the browser.
      const error = constructionError(value);
      expect(error.code).toBe("UNAUTHORIZED");
      expect(error.message).toMatch(/bos_session_test_/);
      // The refusal does not echo the credential (it may be a secret key pasted by mistake).
      if (value.length > 20) expect(error.message).not.toContain(value.slice(-20));
    });
  }

  it("refuses a value that is not a string at all", () => {
    // Refused: a missing token (e.g. an undefined fetched from a route) is not a token.
    const error = constructionError(undefined as unknown as string);
    expect(error.code).toBe("UNAUTHORIZED");
  });

  it("refuses a bad URL with BAD_REQUEST naming the option", () => {
    let thrown: unknown;
    try {
      // Refused: the sandbox URL must be http(s).
      createSessionClient({ sessionToken: TEST_TOKEN, sandboxUrl: "ftp://sandbox.example" });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BillingOSError);
    expect((thrown as BillingOSError).code).toBe("BAD_REQUEST");
    expect((thrown as BillingOSError).fieldErrors).toHaveProperty("sandboxUrl");
  });
});
