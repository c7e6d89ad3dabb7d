// Notification titles and bodies are templates filled from the event: `{{event.payload.amount}}`.
// A placeholder is a condition path (parsed by the same allow-listed parser, so `__proto__` and
// friends are refused) read with own-property access; nothing is ever evaluated as code.
import { ownProperty } from './compile.js';
import { ConditionError, parseCondition, type PropertyName } from './parse.js';

export interface CompiledTemplate {
  readonly source: string;
  render(event: unknown): string;
}

const PLACEHOLDER = /\{\{(.*?)\}\}/gs;

type Part = string | PropertyName[];

/** Throws ConditionError (with the column in the template) when a placeholder is not a path. */
export function compileTemplate(source: string): CompiledTemplate {
  const parts: Part[] = [];
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    parts.push(literal(source, last, match.index));
    parts.push(placeholderPath(match[1]!, match.index + 2));
    last = match.index + match[0].length;
  }
  parts.push(literal(source, last, source.length));
  return {
    source,
    render: (event) =>
      parts.map((part) => (typeof part === 'string' ? part : formatValue(readPath(event, part)))).join(''),
  };
}

/** Text between placeholders; a `{{` in it is a placeholder left open, refused rather than sent as is. */
function literal(source: string, start: number, end: number): string {
  const text = source.slice(start, end);
  const open = text.indexOf('{{');
  if (open >= 0) {
    throw new ConditionError('syntax', 'placeholder "{{" is not closed with "}}"', start + open + 1);
  }
  return text;
}

function placeholderPath(expression: string, offset: number): PropertyName[] {
  let root;
  try {
    root = parseCondition(expression.trim()).root;
  } catch (error) {
    if (!(error instanceof ConditionError)) throw error;
    throw new ConditionError(error.code, `placeholder {{${expression}}}: ${error.description}`, offset + 1);
  }
  if (root.kind !== 'path') {
    throw new ConditionError(
      'not_allowed',
      `placeholder {{${expression}}} must be an event path`,
      offset + 1,
    );
  }
  return root.keys;
}

function readPath(event: unknown, keys: PropertyName[]): unknown {
  let value = event;
  for (const key of keys) value = ownProperty(value, key);
  return value;
}

/** Missing values render as nothing; objects and arrays as JSON. */
function formatValue(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
