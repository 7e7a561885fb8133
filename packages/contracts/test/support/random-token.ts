import { BASE62_ALPHABET, type Environment, formatToken, SECRET_BODY_LENGTH, type TokenKind } from "../../src/index.js";

// The package is browser-safe and its tsconfig has no Node types, so the CSPRNG is Web Crypto's
// getRandomValues (the same OS source as node:crypto's randomBytes).
function randomBytes(length: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

/** SECRET_BODY_LENGTH base62 characters from a CSPRNG, without modulo bias (bytes >= 248 are dropped). */
export function randomBase62Body(length: number = SECRET_BODY_LENGTH): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62_ALPHABET[byte % 62];
    }
  }
  return out;
}

export function randomToken(kind: TokenKind, environment: Environment): string {
  return formatToken(kind, environment, randomBase62Body());
}

export const KINDS: readonly TokenKind[] = ["secretKey", "sessionToken"];
export const ENVIRONMENTS: readonly Environment[] = ["test", "live"];

/** Every (kind, environment) pair, for table-driven tests. */
export const KIND_ENVIRONMENTS: ReadonlyArray<readonly [TokenKind, Environment]> = KINDS.flatMap((kind) =>
  ENVIRONMENTS.map((environment) => [kind, environment] as const),
);

export function otherEnvironment(environment: Environment): Environment {
  return environment === "test" ? "live" : "test";
}

export function otherKind(kind: TokenKind): TokenKind {
  return kind === "secretKey" ? "sessionToken" : "secretKey";
}
