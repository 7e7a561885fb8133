import { z } from "zod";

/** Test and live data never see each other: every key, token and customer belongs to one. */
export const environment = z.enum(["test", "live"]);
export type Environment = z.infer<typeof environment>;

/** Every environment, in one list: what a deployment serves unless told otherwise. */
export const ENVIRONMENTS: readonly Environment[] = environment.options;
