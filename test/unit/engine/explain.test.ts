import { describe, it, expect } from 'vitest';
import { explainCondition, formatCondition } from '../../../src/engine/explain.js';
import { ConditionError, parseCondition } from '../../../src/engine/parse.js';

describe('explainCondition', () => {
  it('lists each evaluated sub-expression with its value, the whole condition last', () => {
    const explanation = explainCondition('event.type == "transfer.failed" && event.payload.amount > 10000', {
      type: 'transfer.failed',
      payload: { amount: 12_000 },
    });
    expect(explanation).toEqual({
      matched: true,
      steps: [
        { expression: 'event.type', value: 'transfer.failed' },
        { expression: 'event.type == "transfer.failed"', value: true },
        { expression: 'event.payload.amount', value: 12_000 },
        { expression: 'event.payload.amount > 10000', value: true },
        { expression: 'event.type == "transfer.failed" && event.payload.amount > 10000', value: true },
      ],
    });
  });

  it('shows missing values as undefined and skips what short-circuiting skipped', () => {
    const explanation = explainCondition('event.payload.amount > 10000 && contains(event.tags, "vip")', {});
    expect(explanation).toEqual({
      matched: false,
      steps: [
        { expression: 'event.payload.amount', value: undefined },
        { expression: 'event.payload.amount > 10000', value: false },
        { expression: 'event.payload.amount > 10000 && contains(event.tags, "vip")', value: false },
      ],
    });
  });

  it('throws ConditionError for a condition that does not compile', () => {
    expect(() => explainCondition('event.a +', {})).toThrow(ConditionError);
  });
});

describe('formatCondition', () => {
  it.each([
    ['event . a  ==  1', 'event.a == 1'],
    ["event['odd key'][0].b", 'event["odd key"][0].b'],
    ['(event.a || event.b) && event.c', '(event.a || event.b) && event.c'],
    ['event.a || (event.b && event.c)', 'event.a || event.b && event.c'],
    ['event.a == (event.b == 1)', 'event.a == (event.b == 1)'],
    ['!(event.a > -1.5)', '!(event.a > -1.5)'],
    ['!contains([1, "x"], event.a)', '!contains([1, "x"], event.a)'],
    ["event.type in ['a', 'b']", 'event.type in ["a", "b"]'],
    ['!(event.type in ["a"])', '!(event.type in ["a"])'],
    ['lower(event.s) == "a\\"b"', 'lower(event.s) == "a\\"b"'],
  ])('%s → %s', (source, text) => {
    const formatted = formatCondition(parseCondition(source).root);
    expect(formatted).toBe(text);
    // The text parses back to the same tree.
    expect(parseCondition(formatted).root).toEqual(parseCondition(source).root);
  });
});
