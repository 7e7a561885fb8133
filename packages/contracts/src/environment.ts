import { z } from "zod";
import { ENVIRONMENT_NAMES } from "./environment-names.js";

/** Test and live data never see each other: every key, token and customer belongs to one. */
export const environment = z.enum(ENVIRONMENT_NAMES);
export type Environment = z.infer<typeof environment>;

/** Every environment, in one list: what a deployment serves unless told otherwise. */
export const ENVIRONMENTS: readonly Environment[] = ENVIRONMENT_NAMES;
