// `pnpm dev` entry: development defaults, then the real server (main.ts). Turbo starts each package
// in its own folder, so paths are anchored to the repository root rather than to where pnpm ran.
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_DATABASE_PATH } from "./config.js";

const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));

// One database for `pnpm dev`, `pnpm start` and `pnpm admin` run at the root: ./data/billingos.sqlite.
const databasePath = process.env.DATABASE_PATH || DEFAULT_DATABASE_PATH;
process.env.DATABASE_PATH =
  databasePath === ":memory:" || isAbsolute(databasePath) ? databasePath : resolve(repositoryRoot, databasePath);

// The example merchant app (apps/example, on EXAMPLE_APP_PORT, default 3000) calls session.* from
// the browser: its origins are allowed unless CORS_ORIGINS says otherwise.
const exampleAppPort = process.env.EXAMPLE_APP_PORT || "3000";
process.env.CORS_ORIGINS ||= `http://localhost:${exampleAppPort},http://127.0.0.1:${exampleAppPort}`;

// Lines for a person at a terminal, unless LOG_FORMAT says otherwise.
process.env.LOG_FORMAT ||= "pretty";

await import("./main.js");
