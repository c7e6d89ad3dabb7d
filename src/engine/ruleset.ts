// A project's rules, compiled once and indexed by the event types they require, so matching an
// event evaluates only the rules that could match it.
import { compileCondition, ownProperty, type CompiledCondition } from './compile.js';
import { ConditionError } from './parse.js';

export interface RuleInput {
  id: string;
  condition: string;
  priority: number;
}

export interface CompiledRule<R extends RuleInput> {
  rule: R;
  condition: CompiledCondition;
  /** Position in priority order (higher priority first, then id). */
  rank: number;
}

export interface RuleCompileError<R extends RuleInput> {
  rule: R;
  error: ConditionError;
}

export interface RuleMatch<R extends RuleInput> {
  /** Matching rules, higher priority first, ties by id. */
  rules: R[];
  /** How many conditions were evaluated for this event. */
  evaluated: number;
}

export interface RuleSet<R extends RuleInput> {
  /** Rules that compiled, in priority order. */
  readonly rules: readonly CompiledRule<R>[];
  /** Rules whose condition did not compile; they never match. */
  readonly errors: readonly RuleCompileError<R>[];
  match(event: unknown): RuleMatch<R>;
}

export function buildRuleSet<R extends RuleInput>(inputs: readonly R[]): RuleSet<R> {
  const errors: RuleCompileError<R>[] = [];
  const compiled: Array<{ rule: R; condition: CompiledCondition }> = [];
  for (const rule of inputs) {
    try {
      compiled.push({ rule, condition: compileCondition(rule.condition) });
    } catch (error) {
      if (!(error instanceof ConditionError)) throw error;
      errors.push({ rule, error });
    }
  }
  const rules = compiled
    .sort((a, b) => b.rule.priority - a.rule.priority || compareIds(a.rule.id, b.rule.id))
    .map((entry, rank): CompiledRule<R> => ({ ...entry, rank }));

  // Each list stays in rank order because rules are added in rank order.
  const byType = new Map<string, CompiledRule<R>[]>();
  const untyped: CompiledRule<R>[] = [];
  for (const rule of rules) {
    const types = rule.condition.requiredTypes;
    if (types === null) {
      untyped.push(rule);
      continue;
    }
    for (const type of types) {
      const list = byType.get(type);
      if (list === undefined) byType.set(type, [rule]);
      else list.push(rule);
    }
  }

  return {
    rules,
    errors,
    match(event) {
      const type = ownProperty(event, 'type');
      const typed = (typeof type === 'string' && byType.get(type)) || [];
      const matched: R[] = [];
      forEachInRankOrder(typed, untyped, (candidate) => {
        if (candidate.condition.evaluate(event)) matched.push(candidate.rule);
      });
      return { rules: matched, evaluated: typed.length + untyped.length };
    },
  };
}

// Code-unit order, the same on every machine (localeCompare is not).
const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Merges two rank-ordered lists, so matches come out in priority order without sorting. */
function forEachInRankOrder<T extends { rank: number }>(
  a: readonly T[],
  b: readonly T[],
  visit: (item: T) => void,
) {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const left = a[i];
    const right = b[j];
    if (left !== undefined && (right === undefined || left.rank < right.rank)) {
      visit(left);
      i++;
    } else if (right !== undefined) {
      visit(right);
      j++;
    }
  }
}
