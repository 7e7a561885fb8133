import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openApiJson } from "./openapi-document.js";

/** `pnpm openapi`: writes the committed document (a test fails while it differs from the generated one). */
const OPENAPI_FILE = fileURLToPath(new URL("../../openapi.json", import.meta.url));

writeFileSync(OPENAPI_FILE, openApiJson());
process.stdout.write(`Wrote ${OPENAPI_FILE}\n`);
