// What JSON Tocsin accepts, checked in one place. MariaDB's JSON columns (CHECK json_valid)
// refuse documents nested deeper than 31 levels and strings holding a lone UTF-16 surrogate, and
// Tocsin stores bodies up to two levels deeper than they arrive (an event's payload inside
// Notification.data, webview data inside audit metadata), so a request body may nest at most
// MAX_JSON_DEPTH levels. Both checks scan the text without recursing: a body nested 30,000 deep
// is refused before anything recursive (JSON.stringify, zod, the engine) sees it.
import { badRequest, type AppError } from './errors.js';

/** Objects and arrays inside one another, `{}` counting 1; documented in SECURITY.md. */
export const MAX_JSON_DEPTH = 20;

const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;
const hexUnit = (text: string, at: number) => Number.parseInt(text.slice(at, at + 4), 16);

const tooDeep = (maxDepth: number) =>
  badRequest(
    'json_too_deep',
    `The JSON body nests objects and arrays deeper than ${maxDepth} levels (the limit); flatten it`,
  );
const loneSurrogate = () =>
  badRequest(
    'json_invalid_unicode',
    'The JSON body holds a lone UTF-16 surrogate (\\uD800-\\uDFFF without its pair); send valid Unicode',
  );

/**
 * Why JSON text may not be accepted (too deep, a lone surrogate, raw or as a `\u` escape), or
 * null. Syntax is left to JSON.parse.
 */
export function jsonTextProblem(text: string, maxDepth = MAX_JSON_DEPTH): AppError | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (inString) {
      if (unit === 0x22) inString = false;
      else if (unit === 0x5c) {
        if (text.charCodeAt(i + 1) !== 0x75) {
          i += 1;
          continue;
        }
        const escaped = hexUnit(text, i + 2);
        i += 5;
        if (isLow(escaped)) return loneSurrogate();
        if (!isHigh(escaped)) continue;
        const paired = text.startsWith('\\u', i + 1) && isLow(hexUnit(text, i + 3));
        if (!paired) return loneSurrogate();
        i += 6;
      } else if (isLow(unit)) return loneSurrogate();
      else if (isHigh(unit)) {
        if (!isLow(text.charCodeAt(i + 1))) return loneSurrogate();
        i += 1;
      }
      continue;
    }
    if (unit === 0x22) inString = true;
    else if (unit === 0x7b || unit === 0x5b) {
      if (++depth > maxDepth) return tooDeep(maxDepth);
    } else if (unit === 0x7d || unit === 0x5d) depth -= 1;
  }
  return null;
}

/**
 * Parses a JSON request body, refusing (with the 400 every route answers) text that
 * jsonTextProblem refuses or that does not parse.
 */
export function readJsonBody(text: string): unknown {
  const problem = jsonTextProblem(text);
  if (problem) throw problem;
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = text.trim() ? (err as Error).message : 'the body is empty';
    throw badRequest('malformed_json', `The body is not valid JSON (${reason}); send a JSON document`);
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const wellFormed = (text: string) => text.replace(LONE_SURROGATE, '\uFFFD');

/** What replaces a value nested deeper than storableJson's limit. */
export const TOO_DEEP = '[nested too deep]';

/**
 * A copy of a JSON value that MariaDB can store: lone surrogates become U+FFFD and values
 * nested deeper than maxDepth become TOO_DEEP. Iterative, so any depth is safe.
 */
export function storableJson(value: unknown, maxDepth = MAX_JSON_DEPTH): unknown {
  const pending: Array<{ source: object; target: Record<string, unknown>; depth: number }> = [];
  const place = (raw: unknown, depth: number): unknown => {
    const item = (raw as { toJSON?: () => unknown } | null)?.toJSON?.() ?? raw;
    if (typeof item === 'string') return wellFormed(item);
    if (item === null || typeof item !== 'object') return item;
    if (depth > maxDepth) return TOO_DEEP;
    const target = (Array.isArray(item) ? [] : {}) as Record<string, unknown>;
    pending.push({ source: item, target, depth });
    return target;
  };
  const root = place(value, 1);
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { source, target, depth } = next;
    for (const [key, item] of Object.entries(source)) {
      // defineProperty: a `__proto__` key stays a plain key.
      Object.defineProperty(target, wellFormed(key), {
        value: place(item, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return root;
}
