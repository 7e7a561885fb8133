import { decodeBase62, encodeBase62Fixed, isBase62, isBase62Code } from "./base62.js";
import { crc32 } from "./crc32.js";
import type { Environment } from "./environment.js";
import { ENVIRONMENT_NAMES as ENVIRONMENTS } from "./environment-names.js";

/**
 * Secrets are `<prefix><43 base62 chars><6 base62 chars of CRC-32>`.
 * 43 base62 characters hold 256.03 bits; the checksum lets a typo or a truncated copy be refused
 * without touching the database, and gives secret scanners a way to tell a real token from noise.
 */
export const SECRET_BODY_LENGTH = 43;
export const CHECKSUM_LENGTH = 6;

export const TOKEN_KINDS = {
  secretKey: "sk",
  sessionToken: "bos_session",
} as const;
export type TokenKind = keyof typeof TOKEN_KINDS;

export function tokenPrefix(kind: TokenKind, environment: Environment): string {
  return `${TOKEN_KINDS[kind]}_${environment}_`;
}

export const SESSION_TOKEN_PREFIXES = {
  test: tokenPrefix("sessionToken", "test"),
  live: tokenPrefix("sessionToken", "live"),
} as const;

export const SECRET_KEY_PREFIXES = {
  test: tokenPrefix("secretKey", "test"),
  live: tokenPrefix("secretKey", "live"),
} as const;

export function checksumOf(prefixAndBody: string): string {
  return encodeBase62Fixed(crc32(prefixAndBody), CHECKSUM_LENGTH);
}

/** Assembles a token from its parts; `body` must be SECRET_BODY_LENGTH base62 characters. */
export function formatToken(kind: TokenKind, environment: Environment, body: string): string {
  if (body.length !== SECRET_BODY_LENGTH || !isBase62(body)) {
    throw new RangeError(`A token body is ${SECRET_BODY_LENGTH} base62 characters`);
  }
  const head = tokenPrefix(kind, environment) + body;
  return head + checksumOf(head);
}

export type ParsedToken = { kind: TokenKind; environment: Environment };

const PREFIXES: Record<TokenKind, readonly [Environment, string][]> = {
  secretKey: ENVIRONMENTS.map((environment) => [environment, SECRET_KEY_PREFIXES[environment]]),
  sessionToken: ENVIRONMENTS.map((environment) => [environment, SESSION_TOKEN_PREFIXES[environment]]),
};

/** The environment a token claims by its prefix alone (no checksum check), or null. */
export function environmentOfPrefix(value: string, kind: TokenKind): Environment | null {
  for (const [environment, prefix] of PREFIXES[kind]) {
    if (value.startsWith(prefix)) return environment;
  }
  return null;
}

/**
 * Parses a token of the given kind, checking length, alphabet and checksum.
 * Returns null for anything that is not a well-formed token of that kind.
 * (On the verify hot path: no allocation beyond the checksum's six characters.)
 */
export function parseToken(value: string, kind: TokenKind): ParsedToken | null {
  for (const [environment, prefix] of PREFIXES[kind]) {
    if (!value.startsWith(prefix)) continue;
    if (value.length !== prefix.length + SECRET_BODY_LENGTH + CHECKSUM_LENGTH) return null;
    const bodyEnd = value.length - CHECKSUM_LENGTH;
    for (let i = prefix.length; i < value.length; i++) {
      if (!isBase62Code(value.charCodeAt(i))) return null;
    }
    const expected = crc32(value, bodyEnd);
    return decodeBase62(value, bodyEnd, value.length) === expected ? { kind, environment } : null;
  }
  return null;
}
