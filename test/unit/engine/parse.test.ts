import { describe, it, expect } from 'vitest';
import {
  ConditionError,
  MAX_CONDITION_LENGTH,
  MAX_DEPTH,
  MAX_NODES,
  parseCondition,
  type ConditionErrorCode,
} from '../../../src/engine/parse.js';

function refusal(source: string): ConditionError {
  try {
    parseCondition(source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConditionError);
    return error as ConditionError;
  }
  throw new Error(`expected ${JSON.stringify(source)} to be refused`);
}

function expectRefused(
  source: string,
  code: ConditionErrorCode,
  column: number | undefined,
  message?: RegExp,
) {
  const error = refusal(source);
  expect({ code: error.code, column: error.column }).toEqual({ code, column });
  if (column !== undefined) expect(error.message).toMatch(new RegExp(`at column ${column}$`));
  if (message) expect(error.message).toMatch(message);
}

describe('parseCondition: syntax errors', () => {
  it('names the unexpected token and its 1-based column', () => {
    const error = refusal('event.amount > 5 = 3');
    expect(error.message).toBe('unexpected token "=" at column 18');
    expect(error.code).toBe('syntax');
    expect(error.column).toBe(18);
  });

  it.each([
    ['event.type = "x"', 12, /unexpected token "="/],
    ['event.type ==', 14, /expected expression after ==/],
    ['event.a == (1', 14, /unclosed \(/],
    ['event.a == "abc', 16, /unclosed quote/],
    ['event.a @ 1', 9, /unexpected token "@"/],
    ['event.a == 1)', 13, /unexpected token "\)"/],
    ['event.', 7, /unexpected end of condition/],
    ['contains(event.a, 1', 20, /expected \)/],
    ['event.a >= 1e', 14, /expected exponent/],
  ])('%s → column %i', (source, column, message) => {
    expectRefused(source, 'syntax', column, message);
  });

  it('refuses an empty or blank condition', () => {
    expectRefused('', 'syntax', 1, /empty condition/);
    expectRefused('   ', 'syntax', 1, /empty condition/);
  });
});

describe('parseCondition: allow-list', () => {
  it.each([
    ['event.a + 1', 9, /operator "\+" is not allowed/],
    ['event.a === 1', 9, /operator "===" is not allowed \(use ==/],
    ['event.a !== 1', 9, /use !=/],
    ['~event.a', 1, /operator "~"/],
    ['-event.a > 1', 1, /unary "-" is only allowed before a number/],
    ['event.a == 1 && foo == 2', 17, /unknown name "foo"/],
    ['event.x == 1 && x == 2', 17, /unknown name "x"/],
    ['undefined', 1, /unknown name "undefined"/],
    ['eval("1")', 1, /function "eval" is not allowed/],
    ['event.a.toString()', 9, /only helper functions can be called/],
    ['contains(event.a)', 1, /contains\(\) takes 2 arguments, got 1/],
    ['abs(1, 2)', 1, /abs\(\) takes 1 argument, got 2/],
    ['event.a ? 1 : 2', 9, /"\?:" is not allowed/],
    ['event.a event.b', 9, /single expression/],
    ['event.a; event.b', 10, /single expression/],
    ['(event.a, event.b)', 11, /single expression/],
    ['this', 1, /"this" is not allowed/],
    ['lower(event.a).b', 16, /properties can only be read from "event"/],
    ['event[event.k]', 7, /string or a non-negative integer literal/],
    ['event[-1]', 7, /string or a non-negative integer literal/],
    ['event[1.5]', 7, /string or a non-negative integer literal/],
    ['event?.a', 8, /"\?\." is not needed/],
    ['[1,,2] == 1', 1, /array holes/],
    ['event.a in event.b', 9, /"in" needs an array literal/],
  ])('%s → not_allowed at column %s', (source, column, message) => {
    expectRefused(source, 'not_allowed', column, message);
  });

  it.each([
    ['event.__proto__', 7],
    ['event.constructor', 7],
    ['event.prototype', 7],
    ['event.payload.__proto__.x', 15],
    ['event["__proto__"]', 7],
    ["event['constructor']", 7],
    ['len(event.a.constructor)', 13],
  ])('refuses prototype access %s at column %i', (source, column) => {
    expectRefused(
      source,
      'not_allowed',
      column,
      /property "(__proto__|constructor|prototype)" is not allowed/,
    );
  });

  it('accepts every allowed construct', () => {
    const source =
      'event.type in ["a", "b"] && !(event.amount >= -1.5e3) || event["x-y"][0].z != null && ' +
      'contains(lower(event.s), "q") && startsWith(event.s, \'a\') && endsWith(event.s, "z") && ' +
      'len(event.list) <= 3 && abs(event.n) > 2 && event.b == true && event.c == false && [1, "x"] == event.r';
    expect(() => parseCondition(source)).not.toThrow();
  });
});

describe('parseCondition: limits', () => {
  it(`accepts ${MAX_CONDITION_LENGTH} characters and refuses ${MAX_CONDITION_LENGTH + 1}`, () => {
    const prefix = 'event.s == "';
    const fill = (length: number) => prefix + 'x'.repeat(length - prefix.length - 1) + '"';
    expect(fill(MAX_CONDITION_LENGTH)).toHaveLength(2000);
    expect(parseCondition(fill(2000)).nodeCount).toBe(4);
    expectRefused(fill(2001), 'too_long', 2001, /2001 characters long, the limit is 2000/);
  });

  it(`accepts depth ${MAX_DEPTH} and refuses ${MAX_DEPTH + 1} (each ! and the literal is one level)`, () => {
    expect(parseCondition('!'.repeat(31) + 'true').depth).toBe(32);
    expectRefused('!'.repeat(32) + 'true', 'too_deep', 33, /nested more than 32 levels/);
  });

  it('counts `event` and each property access as one level', () => {
    const path = (accesses: number) => 'event' + '.a'.repeat(accesses);
    expect(parseCondition(path(31)).depth).toBe(32);
    expect(parseCondition(path(31)).nodeCount).toBe(32);
    // The 33rd level is the identifier `event` itself.
    expectRefused(path(32), 'too_deep', 1);
  });

  it('counts an array literal and a call as one level each', () => {
    const arrays = (levels: number) => '['.repeat(levels) + '1' + ']'.repeat(levels);
    expect(parseCondition(arrays(31)).depth).toBe(32);
    expectRefused(arrays(32), 'too_deep', 33);
    const calls = (levels: number) => 'abs('.repeat(levels) + '1' + ')'.repeat(levels);
    expect(parseCondition(calls(31)).depth).toBe(32);
    expectRefused(calls(32), 'too_deep', 129);
  });

  it('refuses brackets nested deeper than the depth limit before parsing', () => {
    expectRefused('('.repeat(33) + '1' + ')'.repeat(33), 'too_deep', 33, /brackets are nested/);
    expectRefused('('.repeat(1999), 'too_deep', 33);
    // Brackets inside strings do not count.
    expect(() => parseCondition(`event.s == "${'('.repeat(100)}"`)).not.toThrow();
  });

  it(`accepts ${MAX_NODES} nodes and refuses ${MAX_NODES + 1}`, () => {
    // `in` + `event` + `.type` + the array = 4 nodes, then one per element.
    const membership = (elements: number) => `event.type in [${Array(elements).fill('1').join(',')}]`;
    expect(parseCondition(membership(496)).nodeCount).toBe(500);
    const tooMany = membership(497);
    // The 501st node is the 497th element.
    expectRefused(tooMany, 'too_many_nodes', 'event.type in ['.length + 2 * 496 + 1, /more than 500 nodes/);
  });

  it('counts a negative number as one node', () => {
    expect(parseCondition('-5').nodeCount).toBe(1);
    expect(parseCondition('event.a > -5').nodeCount).toBe(4);
  });
});

describe('parseCondition: string escapes', () => {
  const literal = (source: string) => parseCondition(source).root;

  it.each([
    ['"\\u0041\\u00e9"', 'Aé'],
    ["'\\u{1F600}'", '😀'],
    ['"\\ud83d\\ude00"', '😀'],
    ['"\\x41\\n\\t\\\\\\"\'"', 'A\n\t\\"\''],
    ['"\\q"', 'q'],
  ])('decodes %s as JavaScript would', (source, value) => {
    expect(literal(source)).toEqual({ kind: 'literal', value });
  });

  it('decodes escapes in bracketed property names, and still refuses forbidden ones', () => {
    expect(JSON.stringify(parseCondition('event["\\u0061b"] == 1').root)).toContain('"ab"');
    expectRefused('event["\\u005f_proto__"] == 1', 'not_allowed', 7, /__proto__/);
  });

  it('refuses a \\u or \\x without hex digits, and code points past U+10FFFF', () => {
    expectRefused('"\\uZZ"', 'syntax', 1, /hex digits/);
    expectRefused('1 == "\\x"', 'syntax', 6, /hex digits/);
    expectRefused('"\\u{110000}"', 'syntax', 1, /last code point/);
  });
});
