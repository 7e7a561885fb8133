/** `Authorization: Bearer <credential>`: the scheme in any case, the credential one run of non-space. */
const BEARER = /^Bearer +(\S+)\s*$/i;

/** The credential an Authorization header carries, or undefined when it is absent or not a bearer credential. */
export function bearerCredential(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
}
