import { contractOfThisServer } from "@billingos/server/openapi-contract";
import { afterEach, expect } from "vitest";

/**
 * Every answer a real BillingOS server of these suites sends back (through the node client, the
 * session client or a raw fetch) is checked against the OpenAPI document: its status must be one
 * the operation documents, and its body and headers must validate. The answers are read from a
 * clone, so the code under test reads them as it would anyway; a test whose answers break the
 * document fails after it, naming them. Only servers the harness started are checked (servers a
 * test stands up to imitate a proxy are not BillingOS).
 */

const contract = contractOfThisServer();
const checkedOrigins = new Set<string>();
const pending: Promise<void>[] = [];
const problems: string[] = [];

/** Checks the answers of the server at `url` from now on. */
export function checkAnswersFrom(url: string): void {
  checkedOrigins.add(new URL(url).origin);
}

const realFetch = globalThis.fetch;

globalThis.fetch = async function checkedFetch(input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) {
  const response = await realFetch(input, init);
  const request = input instanceof Request ? input : undefined;
  const url = new URL(request?.url ?? String(input));
  if (checkedOrigins.has(url.origin)) {
    const method = (init?.method ?? request?.method ?? "GET").toUpperCase();
    const copy = response.clone();
    pending.push(
      copy.text().then(
        (text) => {
          const found = contract.problemsOfRequest(method, url, {
            status: response.status,
            headers: response.headers,
            text,
          });
          if (found !== null && found.length > 0) problems.push(`${method} ${url.pathname}: ${found.join("; ")}`);
        },
        // The caller gave up on the answer (a timeout, an abort): there is no answer to check.
        () => {},
      ),
    );
  }
  return response;
};

afterEach(async () => {
  const checks = pending.splice(0);
  await Promise.all(checks);
  const found = problems.splice(0);
  expect(found, "answers that do not conform to the OpenAPI document").toEqual([]);
});
