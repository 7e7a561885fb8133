// The import's end-to-end suites run against the same harness as the node client's own suites: a real
// server on port 0 over a fresh migrated database, whose every answer is checked against the OpenAPI
// document. One harness, so the two packages' suites cannot drift apart in what "a real server" means.
export * from "../../node/test/server-harness.js";
