import { createHash } from "node:crypto";

/** Any address works with this password: the demo stands in for the merchant's real user database. */
export const DEMO_PASSWORD = "demo";

export interface DemoUser {
  id: string;
  email: string;
  name: string;
}

/**
 * ASCII case only, as BillingOS matches emails: a full Unicode lower-casing would give one id to
 * two different mailboxes ("\u212Aate@x.com", with a KELVIN SIGN, and "kate@x.com").
 */
export function normalizeEmail(email: string): string {
  return email.trim().replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/**
 * The merchant's own user id, derived from the email so the same person gets the same id (and so
 * the same BillingOS customer, `externalUserId`) on every sign-in, without a user table.
 */
export function demoUserId(email: string): string {
  return `user_${createHash("sha256").update(normalizeEmail(email)).digest("hex").slice(0, 16)}`;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The demo's whole "database": a well-formed email and the demo password sign you in. */
export function authorizeDemoUser(email: unknown, password: unknown): DemoUser | null {
  if (typeof email !== "string" || typeof password !== "string") return null;
  const normalized = normalizeEmail(email);
  if (!EMAIL.test(normalized) || normalized.length > 254 || password !== DEMO_PASSWORD) return null;
  return { id: demoUserId(normalized), email: normalized, name: normalized.split("@")[0]! };
}
