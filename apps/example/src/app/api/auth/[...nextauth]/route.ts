// next-auth's own endpoints: /api/auth/session, /api/auth/csrf, /api/auth/callback/credentials, …
import { handlers } from "@/auth";

export const { GET, POST } = handlers;
