// The JSON checks every request body goes through, and the copy the audit writer stores when
// MySQL refused a row's metadata.
import { describe, expect, it } from 'vitest';
import { jsonTextProblem, MAX_JSON_DEPTH, storableJson, TOO_DEEP } from '../../src/core/json-limits.js';

const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('jsonTextProblem', () => {
  it('counts objects and arrays, not brackets inside strings', () => {
    expect(jsonTextProblem(deep(MAX_JSON_DEPTH))).toBeNull();
    expect(jsonTextProblem(deep(MAX_JSON_DEPTH + 1))?.code).toBe('json_too_deep');
    expect(jsonTextProblem(`[${'[]'.repeat(1000)}]`)).toBeNull();
    expect(jsonTextProblem(`["${'['.repeat(100)}", "\\"[[[[[", {"a": "}}}{{{"}]`, 3)).toBeNull();
    expect(jsonTextProblem('{"a":[{"b":[1]}]}', 3)?.message).toContain('deeper than 3 levels');
  });

  it('scans a body nested 1,000,000 deep without recursing', () => {
    expect(jsonTextProblem(deep(1_000_000))?.code).toBe('json_too_deep');
  });

  it('refuses lone surrogates, escaped or raw, and keeps pairs', () => {
    for (const text of [
      '"\\ud800"',
      '"\\uDC00"',
      '"\\ud800\\u0041"',
      '"\\ud800x"',
      '"\ud800"',
      '"\udc00\ud800"',
    ])
      expect(jsonTextProblem(text)?.code, text).toBe('json_invalid_unicode');
    for (const text of ['"\\ud83d\\ude00"', '"\ud83d\ude00"', '"\\\\ud800"', '"\\u0041\\n"'])
      expect(jsonTextProblem(text), text).toBeNull();
  });
});

describe('storableJson', () => {
  it('replaces lone surrogates and cuts deep values, at any depth', () => {
    let value: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) value = [value];
    const copy = storableJson({ '\ud800k': '\udc00x', list: value }, 3) as Record<string, unknown>;
    expect(copy).toEqual({ '\ufffdk': '\ufffdx', list: [[TOO_DEEP]] });
  });

  it('keeps __proto__ as a plain key and serialises dates as JSON would', () => {
    const source = JSON.parse('{"__proto__":{"polluted":true},"at":null}') as Record<string, unknown>;
    source.at = new Date(0);
    const copy = storableJson(source) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"polluted":true},"at":"1970-01-01T00:00:00.000Z"}');
  });
});
