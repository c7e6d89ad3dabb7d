// Property test with a seeded PRNG: random and mutated conditions either compile or throw
// ConditionError, and compiled ones never throw on random events, never touch the built-in
// prototypes, and never visit more nodes than they have.
import { describe, it, expect } from 'vitest';
import {
  compileCondition,
  type CompiledCondition,
  type EvaluationTrace,
} from '../../../src/engine/compile.js';
import { explainCondition } from '../../../src/engine/explain.js';
import { ConditionError, type ConditionErrorCode } from '../../../src/engine/parse.js';
import { int, pick, seededRandom, type Random } from '../../support/random.js';

const KEYS = [
  'type',
  'amount',
  'status',
  'payload',
  'tags',
  'name',
  '__proto__',
  'constructor',
  'prototype',
  'length',
  'toString',
  'polluted',
  'x y',
  '0',
];
const STRINGS = [
  '',
  'a',
  'transfer.failed',
  'FAILED',
  'vip',
  'x y',
  '__proto__',
  'quote"',
  "apos'",
  'back\\slash',
];
const NUMBERS = ['0', '1', '-1', '10000', '2.5', '-0', '1e400', '.5', '1e-7'];
const COMPARISONS = ['==', '!=', '<', '<=', '>', '>='];
const REFUSED_OPERATORS = ['+', '-', '*', '/', '%', '===', '!==', '??', '|', '&', '^', '<<', '>>>'];
const HELPERS: Array<[string, number]> = [
  ['contains', 2],
  ['startsWith', 2],
  ['endsWith', 2],
  ['lower', 1],
  ['len', 1],
  ['abs', 1],
];
const TOKENS = [
  '(',
  ')',
  '[',
  ']',
  '.',
  ',',
  ';',
  '"',
  "'",
  '\\',
  '!',
  '=',
  '==',
  '<',
  '>',
  '&&',
  '||',
  '&',
  '|',
  '+',
  '-',
  '?',
  ':',
  ' in ',
  'event',
  'event.',
  '__proto__',
  'constructor',
  'this',
  'contains(',
  'len(',
  '0',
  '1e',
  '[]',
  '{',
  '}',
];

function stringLiteral(random: Random): string {
  const text = pick(random, STRINGS);
  return random() < 0.5 ? JSON.stringify(text) : `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function literal(random: Random): string {
  const roll = random();
  if (roll < 0.4) return pick(random, NUMBERS);
  if (roll < 0.8) return stringLiteral(random);
  return pick(random, ['true', 'false', 'null']);
}

function path(random: Random): string {
  let text = random() < 0.95 ? 'event' : pick(random, ['foo', 'this', 'undefined', 'Object']);
  const accesses = int(random, 4);
  for (let i = 0; i < accesses; i++) {
    const key = pick(random, KEYS);
    const roll = random();
    if (roll < 0.6 && /^[a-z_]\w*$/i.test(key)) text += `.${key}`;
    else if (roll < 0.85) text += `[${JSON.stringify(key)}]`;
    else text += `[${int(random, 3)}]`;
  }
  return text;
}

function expression(random: Random, budget: number): string {
  if (budget <= 0 || random() < 0.25) return random() < 0.6 ? path(random) : literal(random);
  const next = () => expression(random, budget - 1 - int(random, 2));
  const roll = random();
  if (roll < 0.3) return `${next()} ${pick(random, COMPARISONS)} ${next()}`;
  if (roll < 0.5) return `${next()} ${random() < 0.5 ? '&&' : '||'} ${next()}`;
  if (roll < 0.55) return `${next()} ${pick(random, REFUSED_OPERATORS)} ${next()}`;
  if (roll < 0.63) return `!${random() < 0.5 ? `(${next()})` : next()}`;
  if (roll < 0.75) {
    const [name, arity] = pick(random, HELPERS);
    const count = random() < 0.9 ? arity : int(random, 4);
    return `${random() < 0.95 ? name : 'eval'}(${Array.from({ length: count }, next).join(', ')})`;
  }
  if (roll < 0.85) {
    const elements = Array.from({ length: int(random, 4) }, () =>
      random() < 0.8 ? literal(random) : next(),
    );
    return `${next()} in [${elements.join(', ')}]`;
  }
  if (roll < 0.92) return `(${next()})`;
  if (roll < 0.96) return `[${Array.from({ length: int(random, 3) }, next).join(', ')}]`;
  return `${next()} ? ${next()} : ${next()}`;
}

function mutate(random: Random, text: string): string {
  let result = text;
  const edits = 1 + int(random, 3);
  for (let i = 0; i < edits; i++) {
    const at = int(random, result.length + 1);
    const roll = random();
    if (roll < 0.3) result = result.slice(0, at) + result.slice(at + 1 + int(random, 4));
    else if (roll < 0.7) result = result.slice(0, at) + pick(random, TOKENS) + result.slice(at);
    else if (roll < 0.85) result = result.slice(0, at);
    else result = result.slice(0, at) + result.slice(int(random, result.length)) + result.slice(at);
  }
  return result;
}

// Conditions at and past the limits, which random expressions rarely reach.
function oversized(random: Random): string {
  const roll = random();
  if (roll < 0.25)
    return `event.type in [${Array(380 + int(random, 240))
      .fill('1')
      .join(',')}]`;
  if (roll < 0.5) return '!'.repeat(20 + int(random, 20)) + path(random);
  if (roll < 0.75) return '('.repeat(20 + int(random, 30)) + 'true' + ')'.repeat(20 + int(random, 30));
  return `event.s == "${'x'.repeat(1980 + int(random, 40))}"`;
}

function jsonValue(random: Random, depth: number): string {
  const roll = random();
  if (depth > 0 && roll < 0.3) {
    const keys = Array.from({ length: int(random, 5) }, () => pick(random, KEYS));
    return `{${keys.map((key) => `${JSON.stringify(key)}:${jsonValue(random, depth - 1)}`).join(',')}}`;
  }
  if (depth > 0 && roll < 0.45)
    return `[${Array.from({ length: int(random, 4) }, () => jsonValue(random, depth - 1)).join(',')}]`;
  if (roll < 0.65) return JSON.stringify(pick(random, STRINGS));
  if (roll < 0.85) return JSON.stringify(pick(random, [0, 1, -1, 10000, 2.5, 1e300]));
  return pick(random, ['true', 'false', 'null']);
}

// JSON.parse keeps "__proto__" as an own key, the way a request body would arrive.
function randomEvent(random: Random): unknown {
  if (random() < 0.05) return JSON.parse(jsonValue(random, 1)) as unknown;
  const keys = Array.from({ length: 1 + int(random, 6) }, () => pick(random, KEYS));
  return JSON.parse(
    `{${keys.map((key) => `${JSON.stringify(key)}:${jsonValue(random, 3)}`).join(',')}}`,
  ) as unknown;
}

const builtInShape = () =>
  [Object.prototype, Array.prototype, String.prototype, Function.prototype].map((prototype) =>
    Object.getOwnPropertyNames(prototype).sort().join(','),
  );

describe('condition fuzzing', () => {
  it('compiles or throws ConditionError, and compiled conditions evaluate safely', () => {
    const random = seededRandom(20240611);
    const shapeBefore = builtInShape();
    const codes = new Map<ConditionErrorCode, number>();
    const unexpected: string[] = [];
    const compiled: CompiledCondition[] = [];

    for (let i = 0; i < 4000; i++) {
      const roll = random();
      const base = roll < 0.05 ? oversized(random) : expression(random, 1 + int(random, 8));
      const source = roll >= 0.05 && roll < 0.5 ? mutate(random, base) : base;
      try {
        compiled.push(compileCondition(source));
      } catch (error) {
        if (error instanceof ConditionError) codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
        else unexpected.push(`compile ${JSON.stringify(source)}: ${String(error)}`);
      }
    }

    const events = Array.from({ length: 40 }, () => randomEvent(random));
    for (const condition of compiled) {
      for (const event of events) {
        try {
          const trace: EvaluationTrace = { visited: 0 };
          const matched = condition.evaluate(event, trace);
          if (typeof matched !== 'boolean')
            unexpected.push(`${condition.source}: returned ${typeof matched}`);
          if (trace.visited > condition.nodeCount) {
            unexpected.push(`${condition.source}: visited ${trace.visited} of ${condition.nodeCount} nodes`);
          }
          if (explainCondition(condition.source, event).matched !== matched) {
            unexpected.push(`${condition.source}: explain disagrees`);
          }
        } catch (error) {
          unexpected.push(`evaluate ${JSON.stringify(condition.source)}: ${String(error)}`);
        }
      }
    }

    expect(unexpected.slice(0, 10)).toEqual([]);
    expect(builtInShape()).toEqual(shapeBefore);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // The generator reaches every outcome, so the properties above were tested on all of them.
    expect(compiled.length).toBeGreaterThan(1000);
    expect([...codes.keys()].sort()).toEqual([
      'not_allowed',
      'syntax',
      'too_deep',
      'too_long',
      'too_many_nodes',
    ]);
  });
});
