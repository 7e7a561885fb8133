/** Where the procedures are served: /trpc/<procedure>. */
export const TRPC_BASE_PATH = "/trpc";
