import type { WafEngine } from '../../src/waf/engine/waf-engine.js';
import { BudgetExceededError } from '../../src/waf/engine/evaluate.js';
import { buildFtwResponse } from '../../src/waf/ftw/build-request.js';
import type { WafRequest } from '../../src/waf/request.js';
import type { OperatorFn, Rule } from '../../src/waf/types.js';

/** Every rule link of the engine, chains included. */
export function ruleLinks(engine: WafEngine): Rule[] {
  const out: Rule[] = [];
  for (const phase of engine.ruleSet.phases) for (const rule of phase ?? []) for (let link: Rule | undefined = rule; link !== undefined; link = link.chain) out.push(link);
  return out;
}

/** Wraps every link's operator to record the inputs it is called with, in order, by rule id. */
export function recordOperatorInputs(engine: WafEngine): Map<number, string[]> {
  const seen = new Map<number, string[]>();
  for (const link of ruleLinks(engine)) {
    const op = link.operator;
    const calls: string[] = [];
    seen.set(link.id, calls);
    (link as { operator: OperatorFn }).operator = (ctx, input, capture) => {
      calls.push(input);
      return op(ctx, input, capture);
    };
  }
  return seen;
}

/** A regression-suite stage through the engine (request, then the response go-ftw's server gives): the rules it matched, with their data. */
export function stageOutcome(engine: WafEngine, req: WafRequest, usePrefilter = true): string {
  const tx = engine.newTransaction();
  tx.usePrefilter = usePrefilter;
  try {
    engine.evaluateRequest(req, tx);
    engine.evaluateResponse(tx, buildFtwResponse(req));
  } catch (error) {
    if (!(error instanceof BudgetExceededError)) throw error;
  }
  return JSON.stringify(tx.matches.map((m) => [m.id, m.variable, m.msg, m.data]));
}
