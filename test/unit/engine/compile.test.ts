import { describe, it, expect } from 'vitest';
import { compileCondition, type EvaluationTrace } from '../../../src/engine/compile.js';

const matches = (source: string, event: unknown): boolean => compileCondition(source).evaluate(event);

const event = {
  type: 'transfer.failed',
  amount: 12_500,
  negative: -3,
  name: 'Alice',
  flag: true,
  off: false,
  nothing: null,
  tags: ['vip', 'eu', 7],
  payload: { status: 'failed', amount: 10_001, nested: { deep: 'yes' } },
  items: [{ id: 'a' }, { id: 'b' }],
  'odd key': 1,
};

describe('literals and member access', () => {
  it.each([
    ['event.amount == 12500', true],
    ['event.amount == 1.25e4', true],
    ['event.negative == -3', true],
    ['event.name == "Alice"', true],
    ["event.name == 'Alice'", true],
    ['event.flag == true', true],
    ['event.off == false', true],
    ['event.nothing == null', true],
    ['event.payload.status == "failed"', true],
    ['event.payload.nested.deep == "yes"', true],
    ['event["odd key"] == 1', true],
    ['event.items[1].id == "b"', true],
    ['event["items"][0]["id"] == "a"', true],
    ['event.tags[2] == 7', true],
    ['event.flag', true],
    ['event.off', false],
    ['true', true],
    ['false', false],
    ['null', false],
    ['"true"', false],
    ['1', false],
  ])('%s → %s', (source, expected) => {
    expect(matches(source, event)).toBe(expected);
  });

  it('evaluates array literals, which never equal an event value', () => {
    expect(matches('event.tags == ["vip", "eu", 7]', event)).toBe(false);
    expect(matches('len([1, event.amount, "x"]) == 3', event)).toBe(true);
    expect(matches('contains([event.amount, 2], 12500)', event)).toBe(true);
  });
});

describe('comparison operators', () => {
  it.each([
    ['event.amount == 12500', true],
    ['event.amount == "12500"', false],
    ['event.flag == 1', false],
    ['event.nothing == false', false],
    ['event.amount != 1', true],
    ['event.amount != 12500', false],
    ['event.amount != "12500"', true],
    ['event.amount > 10000', true],
    ['event.amount > 12500', false],
    ['event.amount >= 12500', true],
    ['event.amount < 12500', false],
    ['event.amount < 20000', true],
    ['event.amount <= 12500', true],
    ['event.name < "Bob"', true],
    ['event.name >= "alice"', false],
    ['event.name > 1', false],
    ['event.name < 1', false],
    ['event.amount > "1"', false],
    ['event.nothing < 1', false],
    ['event.nothing >= 0', false],
    ['event.flag > false', false],
    ['event.tags > 0', false],
  ])('%s → %s', (source, expected) => {
    expect(matches(source, event)).toBe(expected);
  });
});

describe('logical operators', () => {
  it.each([
    ['event.flag && event.amount > 1', true],
    ['event.flag && event.amount < 1', false],
    ['event.off || event.amount > 1', true],
    ['event.off || event.amount < 1', false],
    ['!event.off', true],
    ['!event.flag', false],
    ['!(event.amount > 1)', false],
    ['!!event.flag', true],
    // Only `true` is true: other values count as false.
    ['event.name && true', false],
    ['event.amount || false', false],
    ['!event.name', true],
    ['!event.missing', true],
    // && binds tighter than ||.
    ['true || false && false', true],
    ['(true || false) && false', false],
  ])('%s → %s', (source, expected) => {
    expect(matches(source, event)).toBe(expected);
  });

  it('short-circuits: the right side is not visited when the left decides', () => {
    const condition = compileCondition('event.a == 1 && event.b == 2');
    expect(condition.nodeCount).toBe(9);
    const full: EvaluationTrace = { visited: 0 };
    expect(condition.evaluate({ a: 1, b: 2 }, full)).toBe(true);
    expect(full.visited).toBe(9);
    const shortCircuited: EvaluationTrace = { visited: 0 };
    expect(condition.evaluate({ a: 0, b: 2 }, shortCircuited)).toBe(false);
    expect(shortCircuited.visited).toBe(5);
  });
});

describe('in', () => {
  it.each([
    ['event.type in ["transfer.failed", "x"]', true],
    ['event.type in ["x", "y"]', false],
    ['event.amount in [1, 12500]', true],
    ['event.amount in ["12500"]', false],
    ['event.nothing in [null]', true],
    ['event.missing in [null, 1]', false],
    ['event.type in []', false],
    ['event.payload.status in [event.name, "failed"]', true],
    ['event.payload.status in [event.name, event.missing]', false],
    ['event.missing in [event.other]', false],
    ['!(event.type in ["x"])', true],
  ])('%s → %s', (source, expected) => {
    expect(matches(source, event)).toBe(expected);
  });
});

describe('helpers', () => {
  it.each([
    ['contains(event.name, "lic")', true],
    ['contains(event.name, "bob")', false],
    ['contains(event.tags, "vip")', true],
    ['contains(event.tags, 7)', true],
    ['contains(event.tags, "7")', false],
    ['contains(event.tags, event.missing)', false],
    ['contains(event.amount, 1)', false],
    ['contains(event.name, 1)', false],
    ['startsWith(event.type, "transfer.")', true],
    ['startsWith(event.type, "failed")', false],
    ['startsWith(event.amount, "1")', false],
    ['endsWith(event.type, ".failed")', true],
    ['endsWith(event.type, "transfer")', false],
    ['endsWith(event.type, 1)', false],
    ['lower(event.name) == "alice"', true],
    ['lower(event.amount) == "12500"', false],
    ['len(event.name) == 5', true],
    ['len(event.tags) == 3', true],
    ['len(event.payload) == 1', false],
    ['len(event.amount) >= 0', false],
    ['abs(event.negative) == 3', true],
    ['abs(-2.5) == 2.5', true],
    ['abs(event.name) >= 0', false],
    ['len(lower(event.type)) > 10 && contains(lower("ABC"), "b")', true],
  ])('%s → %s', (source, expected) => {
    expect(matches(source, event)).toBe(expected);
  });
});

describe('missing properties and odd events', () => {
  it('makes every comparison false when a property is missing, != included', () => {
    for (const operator of ['==', '!=', '<', '<=', '>', '>=']) {
      expect(matches(`event.missing ${operator} 1`, event)).toBe(false);
      expect(matches(`event.payload.missing.deeper ${operator} "x"`, event)).toBe(false);
      expect(matches(`1 ${operator} event.missing`, event)).toBe(false);
    }
    expect(matches('event.missing == event.other', event)).toBe(false);
  });

  it('evaluates any value as an event without throwing', () => {
    for (const odd of [undefined, null, 0, 'text', [], [2, 3], true, Object.create(null)]) {
      expect(matches('event.type == "x" || event[0] == 1 || len(event) > 10', odd)).toBe(false);
    }
    expect(matches('event[0] == 1', [1])).toBe(true);
  });

  it('reads own properties only', () => {
    const inherited = Object.create({ type: 'x', amount: 5 }) as object;
    expect(matches('event.type == "x"', inherited)).toBe(false);
    expect(matches('event.amount > 1', inherited)).toBe(false);
    expect(matches('len(event.toString) == 0 || event.hasOwnProperty != null', {})).toBe(false);
    expect(matches('event.length == 1', 'x')).toBe(false);
  });

  it('treats a JSON "__proto__" key as plain data it cannot reach', () => {
    const polluting = JSON.parse('{"__proto__": {"admin": true}, "type": "x"}') as unknown;
    expect(matches('event.admin == true', polluting)).toBe(false);
    expect(matches('event.type == "x"', polluting)).toBe(true);
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
  });
});

describe('requiredTypes', () => {
  it.each([
    ['event.type == "a"', ['a']],
    ['"a" == event.type', ['a']],
    ['event["type"] == "a" && event.amount > 1', ['a']],
    ['event.amount > 1 && (event.type in ["b", "a"] && event.x)', ['a', 'b']],
    ['event.type in ["a", "b"] && event.type == "b"', ['b']],
    ['event.type == "a" && event.type == "b"', []],
    ['event.type == "a" || event.type == "b"', null],
    ['!(event.type == "a")', null],
    ['event.type != "a"', null],
    ['event.type == 1', null],
    ['event.type in ["a", 1]', null],
    ['event.type in ["a", event.x]', null],
    ['event.payload.type == "a"', null],
    ['event.amount > 1', null],
  ])('%s → %j', (source, expected) => {
    expect(compileCondition(source).requiredTypes).toEqual(expected);
  });
});

describe('evaluation bounds', () => {
  it('visits each node at most once', () => {
    const source =
      'event.type in ["a", "b"] && contains(lower(event.name), "x") || !(event.items[0].id == event.name) && abs(-1) == 1';
    const condition = compileCondition(source);
    const trace: EvaluationTrace = { visited: 0 };
    condition.evaluate({ type: 'a', name: 'x', items: [{ id: 'y' }] }, trace);
    expect(trace.visited).toBeGreaterThan(0);
    expect(trace.visited).toBeLessThanOrEqual(condition.nodeCount);
  });

  it('keeps the source and returns a plain boolean', () => {
    const condition = compileCondition('event.amount > 1');
    expect(condition.source).toBe('event.amount > 1');
    expect(condition.evaluate({ amount: 2 })).toBe(true);
    expect(condition.evaluate({ amount: 0 })).toBe(false);
  });
});
