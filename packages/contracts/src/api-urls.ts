import { z } from "zod";

export const apiUrls = z.strictObject({
  sandboxUrl: z.url({ protocol: /^https?$/, error: "sandboxUrl must be an http(s) URL" }),
  productionUrl: z.url({ protocol: /^https?$/, error: "productionUrl must be an http(s) URL" }),
});
export type ApiUrls = z.infer<typeof apiUrls>;
