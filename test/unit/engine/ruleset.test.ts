import { describe, it, expect } from 'vitest';
import { buildRuleSet } from '../../../src/engine/ruleset.js';
import { ConditionError } from '../../../src/engine/parse.js';

interface Rule {
  id: string;
  condition: string;
  priority: number;
  channel: string;
}

const rule = (id: string, condition: string, priority = 0): Rule => ({
  id,
  condition,
  priority,
  channel: `#${id}`,
});

describe('buildRuleSet', () => {
  const rules = [
    rule('a1', 'event.type == "a"'),
    rule('a2', 'event.type == "a" && event.amount > 10'),
    rule('ab', 'event.type in ["a", "b"]'),
    rule('b1', '"b" == event.type'),
    rule('c1', 'event.type == "c"'),
    rule('any', 'event.amount > 10'),
    rule('anyType', 'event.type == "a" || event.type == "z"'),
  ];
  const ruleSet = buildRuleSet(rules);

  it('evaluates only the rules indexed under the event type, plus untyped ones', () => {
    expect(ruleSet.match({ type: 'a', amount: 5 }).evaluated).toBe(3 + 2);
    expect(ruleSet.match({ type: 'b' }).evaluated).toBe(2 + 2);
    expect(ruleSet.match({ type: 'c' }).evaluated).toBe(1 + 2);
    expect(ruleSet.match({ type: 'unknown' }).evaluated).toBe(2);
    expect(ruleSet.match({ amount: 50 }).evaluated).toBe(2);
    expect(ruleSet.match({ type: 7 }).evaluated).toBe(2);
    expect(ruleSet.match(null).evaluated).toBe(2);
  });

  it('returns the matching rule objects themselves', () => {
    const { rules: matched } = ruleSet.match({ type: 'a', amount: 50 });
    expect(matched.map((r) => r.id)).toEqual(['a1', 'a2', 'ab', 'any', 'anyType']);
    expect(matched[0]).toBe(rules[0]);
    expect(matched[0]?.channel).toBe('#a1');
    expect(ruleSet.match({ type: 'z' }).rules.map((r) => r.id)).toEqual(['anyType']);
    expect(ruleSet.match({ type: 'b', amount: 1 }).rules.map((r) => r.id)).toEqual(['ab', 'b1']);
  });

  it('does not index by a type inherited from the prototype', () => {
    const inherited = Object.create({ type: 'a' }) as object;
    expect(ruleSet.match(inherited)).toEqual({ rules: [], evaluated: 2 });
  });

  it('orders matches by priority, higher first, ties by id, typed and untyped interleaved', () => {
    const ordered = buildRuleSet([
      rule('m', 'event.type == "x"', 1),
      rule('b', 'true', 5),
      rule('a', 'event.type == "x"', 5),
      rule('z', 'event.type in ["x"]', 10),
      rule('c', 'event.flag', -1),
      rule('B', 'true', 5),
    ]);
    expect(ordered.match({ type: 'x', flag: true }).rules.map((r) => r.id)).toEqual([
      'z',
      'B',
      'a',
      'b',
      'm',
      'c',
    ]);
    expect(ordered.rules.map((r) => r.rule.id)).toEqual(['z', 'B', 'a', 'b', 'm', 'c']);
    expect(ordered.rules.map((r) => r.rank)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('skips rules that do not compile and reports them, without breaking the others', () => {
    const mixed = buildRuleSet([
      rule('good', 'event.type == "a"'),
      rule('syntax', 'event.type =='),
      rule('evil', 'event.__proto__.x == 1'),
      rule('also-good', 'event.amount > 1'),
    ]);
    expect(mixed.errors.map((e) => [e.rule.id, e.error.code])).toEqual([
      ['syntax', 'syntax'],
      ['evil', 'not_allowed'],
    ]);
    expect(mixed.errors[0]?.error).toBeInstanceOf(ConditionError);
    expect(mixed.rules.map((r) => r.rule.id)).toEqual(['also-good', 'good']);
    expect(mixed.match({ type: 'a', amount: 2 }).rules.map((r) => r.id)).toEqual(['also-good', 'good']);
  });

  it('handles an empty rule list', () => {
    expect(buildRuleSet([]).match({ type: 'a' })).toEqual({ rules: [], evaluated: 0 });
  });

  it('indexes a rule that can never match under no type', () => {
    const never = buildRuleSet([rule('never', 'event.type == "a" && event.type == "b"')]);
    expect(never.match({ type: 'a' }).evaluated).toBe(0);
    expect(never.match({ type: 'b' }).evaluated).toBe(0);
  });
});
