// Plain JavaScript, so it loads before (and without) the TypeScript loader.
// Loaded with `node --import` into a CLI process under test: on exit, writes the process's peak
// resident set size in bytes to $BILLINGOS_TEST_PEAK_RSS_FILE. The kernel keeps the peak, so no
// sampling can miss it.
import { writeFileSync } from "node:fs";

const target = process.env.BILLINGOS_TEST_PEAK_RSS_FILE;
if (target) {
  process.on("exit", () => {
    writeFileSync(target, String(process.resourceUsage().maxRSS * 1024));
  });
}
