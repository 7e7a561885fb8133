import type { LoadResult } from "./load.js";
import type { Row } from "./report.js";
import { rowFromRounds } from "./rounds.js";

/** A scenario measured in every round, by its (unique) name. */
export interface PlannedScenario {
  name: string;
  target?: string;
  /** Ratios against this scenario (by name) on the scenario's own row; none on the reference itself. */
  reference?: string;
}

/**
 * A row that sets one measured scenario beside another from the same rounds (the twin on the other
 * engine, the other checkout, the peer): the subject's figures, and its per-round ratios to the
 * reference's.
 */
export interface Comparison {
  name: string;
  subject: string;
  reference: string;
  /** How the row names the reference in its "against" column. */
  referenceLabel: string;
  target?: string;
}

/** The report's rows: every scenario (ratios to its reference), then the comparisons. */
export function rowsOfPlan(
  scenarios: PlannedScenario[],
  comparisons: Comparison[],
  results: Map<string, LoadResult[]>,
): Row[] {
  const roundsOf = (name: string) => {
    const rounds = results.get(name);
    if (!rounds) throw new Error(`no results for scenario "${name}"`);
    return rounds;
  };
  const labelOf = (name: string) => name.split(":")[0]!;
  return [
    ...scenarios.map((scenario) =>
      rowFromRounds(
        scenario.name,
        roundsOf(scenario.name),
        scenario.reference === undefined
          ? undefined
          : { name: labelOf(scenario.reference), rounds: roundsOf(scenario.reference) },
        scenario.target,
      ),
    ),
    ...comparisons.map((comparison) =>
      rowFromRounds(
        comparison.name,
        roundsOf(comparison.subject),
        { name: comparison.referenceLabel, rounds: roundsOf(comparison.reference) },
        comparison.target,
      ),
    ),
  ];
}
