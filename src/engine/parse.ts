// Parses a rule condition with jsep and checks it against the allow-list, producing a small
// typed tree (ConditionNode) that the compiler and the explainer work on. Everything that can be
// refused is refused here, so evaluation never has to.
import jsep from 'jsep';

// `in` tests membership in an array literal; it binds like the relational operators.
jsep.addBinaryOp('in', 7);

export const MAX_CONDITION_LENGTH = 2000;
export const MAX_DEPTH = 32;
export const MAX_NODES = 500;

export type ConditionErrorCode = 'syntax' | 'not_allowed' | 'too_long' | 'too_deep' | 'too_many_nodes';

export class ConditionError extends Error {
  override name = 'ConditionError';
  constructor(
    readonly code: ConditionErrorCode,
    readonly description: string,
    /** 1-based column the problem was found at, when known. */
    readonly column?: number,
  ) {
    super(column === undefined ? description : `${description} at column ${column}`);
  }
}

export type ComparisonOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type LogicalOperator = '&&' | '||';
export type PropertyName = string | number;

/** Helper functions a condition may call, with their number of arguments. */
export const HELPER_ARITY = {
  contains: 2,
  startsWith: 2,
  endsWith: 2,
  lower: 1,
  len: 1,
  abs: 1,
} as const;
export type HelperName = keyof typeof HELPER_ARITY;

export type LiteralValue = string | number | boolean | null;
export interface ArrayNode {
  kind: 'array';
  elements: ConditionNode[];
}
export type ConditionNode =
  | { kind: 'literal'; value: LiteralValue }
  | ArrayNode
  /** `event` followed by property accesses; `keys: []` is `event` itself. */
  | { kind: 'path'; keys: PropertyName[] }
  | { kind: 'compare'; operator: ComparisonOperator; left: ConditionNode; right: ConditionNode }
  | { kind: 'in'; item: ConditionNode; list: ArrayNode }
  | { kind: 'logical'; operator: LogicalOperator; left: ConditionNode; right: ConditionNode }
  | { kind: 'not'; argument: ConditionNode }
  | { kind: 'call'; helper: HelperName; args: ConditionNode[] };

export interface ParsedCondition {
  root: ConditionNode;
  /** Nodes in the tree: each literal, array literal, `event`, property access, operator and call. */
  nodeCount: number;
  /** Nodes on the longest path from the root to a leaf (a lone literal has depth 1). */
  depth: number;
}

const COMPARISON_OPERATORS = new Set<string>(['==', '!=', '<', '<=', '>', '>=']);
// Reading these could reach Object.prototype or a constructor; refusing the names makes that
// impossible whatever the event holds.
const FORBIDDEN_PROPERTIES = new Set<string>(['__proto__', 'constructor', 'prototype']);
const HELPER_NAMES = new Map(Object.entries(HELPER_ARITY)) as Map<string, number>;

export function parseCondition(source: string): ParsedCondition {
  if (source.length > MAX_CONDITION_LENGTH) {
    throw new ConditionError(
      'too_long',
      `condition is ${source.length} characters long, the limit is ${MAX_CONDITION_LENGTH}`,
      MAX_CONDITION_LENGTH + 1,
    );
  }
  checkBracketNesting(source);
  const ast = parseSyntax(source);

  let nodeCount = 0;
  let depth = 0;
  const fail = (code: ConditionErrorCode, description: string, at: jsep.Expression): never => {
    throw new ConditionError(code, description, columnOf(source, ast, at));
  };
  // Called once per node of the typed tree, top-down, so limits stop the walk early.
  const enter = (at: jsep.Expression, level: number): void => {
    if (level > MAX_DEPTH) fail('too_deep', `condition is nested more than ${MAX_DEPTH} levels deep`, at);
    if (++nodeCount > MAX_NODES) fail('too_many_nodes', `condition has more than ${MAX_NODES} nodes`, at);
    depth = Math.max(depth, level);
  };

  const convert = (expr: jsep.Expression, level: number): ConditionNode => {
    switch (expr.type) {
      case 'Literal':
        enter(expr, level);
        return { kind: 'literal', value: literalValue(expr as jsep.Literal, fail) };
      case 'ArrayExpression':
        enter(expr, level);
        return convertArray(expr as jsep.ArrayExpression, level);
      case 'Identifier':
      case 'MemberExpression':
        return convertPath(expr, level);
      case 'UnaryExpression': {
        const { operator, argument } = expr as jsep.UnaryExpression;
        enter(expr, level);
        if (operator === '-' && argument.type === 'Literal' && typeof argument['value'] === 'number') {
          return { kind: 'literal', value: -argument['value'] };
        }
        if (operator === '-') return fail('not_allowed', 'unary "-" is only allowed before a number', expr);
        if (operator !== '!') return fail('not_allowed', `operator "${operator}" is not allowed`, expr);
        return { kind: 'not', argument: convert(argument, level + 1) };
      }
      case 'BinaryExpression': {
        const { operator, left, right } = expr as jsep.BinaryExpression;
        enter(expr, level);
        if (operator === '&&' || operator === '||') {
          return {
            kind: 'logical',
            operator,
            left: convert(left, level + 1),
            right: convert(right, level + 1),
          };
        }
        if (COMPARISON_OPERATORS.has(operator)) {
          return {
            kind: 'compare',
            operator: operator as ComparisonOperator,
            left: convert(left, level + 1),
            right: convert(right, level + 1),
          };
        }
        if (operator === 'in') {
          const item = convert(left, level + 1);
          if (right.type !== 'ArrayExpression') {
            return fail('not_allowed', '"in" needs an array literal on its right', expr);
          }
          enter(right, level + 1);
          return { kind: 'in', item, list: convertArray(right as jsep.ArrayExpression, level + 1) };
        }
        const hint =
          operator === '===' || operator === '!==' ? ` (use ${operator.slice(0, 2)}, it is strict)` : '';
        return fail('not_allowed', `operator "${operator}" is not allowed${hint}`, expr);
      }
      case 'CallExpression':
        enter(expr, level);
        return convertCall(expr as jsep.CallExpression, level);
      case 'Compound':
      case 'SequenceExpression':
        return fail('not_allowed', 'a condition is a single expression', expr);
      case 'ConditionalExpression':
        return fail('not_allowed', 'operator "?:" is not allowed', expr);
      case 'ThisExpression':
        return fail('not_allowed', '"this" is not allowed, conditions start from "event"', expr);
      default:
        return fail('not_allowed', `${expr.type} is not allowed`, expr);
    }
  };

  const convertArray = (expr: jsep.ArrayExpression, level: number): ArrayNode => ({
    kind: 'array',
    elements: expr.elements.map((element) =>
      element === null
        ? fail('not_allowed', 'array holes are not allowed', expr)
        : convert(element, level + 1),
    ),
  });

  // `event.a["b"][0]` is a chain of MemberExpressions ending in the identifier `event`; it becomes
  // one path node, counted as one node per access plus one for `event`.
  const convertPath = (expr: jsep.Expression, level: number): ConditionNode => {
    const chain: jsep.Expression[] = [];
    let current = expr;
    while (current.type === 'MemberExpression') {
      chain.push(current);
      current = (current as jsep.MemberExpression).object;
    }
    if (current.type !== 'Identifier') {
      return fail('not_allowed', 'properties can only be read from "event"', chain.at(-1) ?? current);
    }
    chain.push(current);
    chain.forEach((link, i) => enter(link, level + i));
    const name = (current as jsep.Identifier).name;
    if (name !== 'event') {
      return fail('not_allowed', `unknown name "${name}", conditions start from "event"`, current);
    }
    const keys = chain
      .slice(0, -1)
      .reverse()
      .map((member) => propertyName(member as jsep.MemberExpression, fail));
    return { kind: 'path', keys };
  };

  const convertCall = (expr: jsep.CallExpression, level: number): ConditionNode => {
    const callee = expr.callee;
    const helpers = [...HELPER_NAMES.keys()].join(', ');
    if (callee.type !== 'Identifier') {
      return fail('not_allowed', `only helper functions can be called (${helpers})`, expr);
    }
    const name = (callee as jsep.Identifier).name;
    const arity = HELPER_NAMES.get(name);
    if (arity === undefined) {
      return fail('not_allowed', `function "${name}" is not allowed (helpers: ${helpers})`, expr);
    }
    if (expr.arguments.length !== arity) {
      const noun = arity === 1 ? 'argument' : 'arguments';
      return fail('not_allowed', `${name}() takes ${arity} ${noun}, got ${expr.arguments.length}`, expr);
    }
    return {
      kind: 'call',
      helper: name as HelperName,
      args: expr.arguments.map((argument) => convert(argument, level + 1)),
    };
  };

  if (ast.type === 'Compound' && (ast as jsep.Compound).body.length === 0) {
    throw new ConditionError('syntax', 'empty condition', 1);
  }
  const root = convert(ast, 1);
  return { root, nodeCount, depth };
}

type Fail = (code: ConditionErrorCode, description: string, at: jsep.Expression) => never;

function literalValue(expr: jsep.Literal, fail: Fail): LiteralValue {
  const value = expr.value;
  if (typeof value === 'string') return stringValue(expr, fail);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  return fail('not_allowed', `literal ${expr.raw} is not allowed`, expr);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  v: '\v',
  0: '\0',
};
const ESCAPE = /\\(u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|u|x|[^])/g;

/**
 * A string literal's value, decoded from its source text as JavaScript would: jsep knows only
 * \n \r \t \b \f \v and turns `\u0041` into "u0041". Any other escaped character stands for itself.
 */
function stringValue(literal: jsep.Literal, fail: Fail): string {
  const body = String(literal.raw).slice(1, -1);
  return body.replace(ESCAPE, (whole, escape: string, braced?: string, unit?: string, byte?: string) => {
    const hex = braced ?? unit ?? byte;
    if (hex !== undefined) {
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff) return fail('syntax', `${whole} is beyond the last code point`, literal);
      return String.fromCodePoint(code);
    }
    if (escape === 'u' || escape === 'x')
      return fail(
        'syntax',
        `\\${escape} must be followed by hex digits (\\u0041, \\u{1F600}, \\x41)`,
        literal,
      );
    return SIMPLE_ESCAPES[escape] ?? escape;
  });
}

function propertyName(member: jsep.MemberExpression, fail: Fail): PropertyName {
  if (member.optional)
    return fail('not_allowed', '"?." is not needed, a missing property is undefined', member);
  const property = member.property;
  let name: PropertyName;
  if (!member.computed && property.type === 'Identifier') {
    name = (property as jsep.Identifier).name;
  } else if (property.type === 'Literal' && typeof property['value'] === 'string') {
    name = stringValue(property as jsep.Literal, fail);
  } else if (
    property.type === 'Literal' &&
    Number.isSafeInteger(property['value']) &&
    Number(property['value']) >= 0
  ) {
    name = Number(property['value']);
  } else {
    return fail(
      'not_allowed',
      'a property in brackets must be a string or a non-negative integer literal',
      member,
    );
  }
  if (typeof name === 'string' && FORBIDDEN_PROPERTIES.has(name)) {
    return fail('not_allowed', `property "${name}" is not allowed`, member);
  }
  return name;
}

function parseSyntax(source: string): jsep.Expression {
  try {
    return jsep(source);
  } catch (error) {
    const { description, index } = error as { description?: string; index?: number };
    if (typeof description !== 'string' || typeof index !== 'number') throw error;
    throw new ConditionError('syntax', syntaxDescription(source, description, index), index + 1);
  }
}

// jsep says `Unexpected "="` or `Unexpected 1`; name the character actually found instead.
function syntaxDescription(source: string, description: string, index: number): string {
  if (description.startsWith('Unexpected')) {
    const found = source[index];
    return found === undefined ? 'unexpected end of condition' : `unexpected token "${found}"`;
  }
  return description.charAt(0).toLowerCase() + description.slice(1);
}

// jsep recurses once per bracket level; refusing deep bracket nesting before parsing keeps a
// 2000-character condition from exhausting the stack. Brackets nested this deep always make the
// tree deeper than MAX_DEPTH unless they are redundant, so this refuses nothing useful.
function checkBracketNesting(source: string): void {
  let nesting = 0;
  let quote: string | undefined;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (quote !== undefined) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '(' || char === '[') {
      if (++nesting > MAX_DEPTH) {
        throw new ConditionError('too_deep', `brackets are nested more than ${MAX_DEPTH} levels deep`, i + 1);
      }
    } else if (char === ')' || char === ']') {
      nesting = Math.max(0, nesting - 1);
    }
  }
}

/**
 * The 1-based column of a node's key token (its operator, name or literal), or undefined.
 * jsep nodes carry no positions, but their tokens appear in the source in the order of this walk
 * with only spaces and punctuation between them, so searching forward from the end of the
 * previous token finds each one.
 */
function columnOf(source: string, root: jsep.Expression, target: jsep.Expression): number | undefined {
  let cursor = 0;
  let found: number | undefined;
  const advance = (token: string): number => {
    const at = source.indexOf(token, cursor);
    if (at >= 0) cursor = at + token.length;
    return at;
  };
  // Returns the index where the node's own key token starts.
  const visit = (node: jsep.Expression): number => {
    let key = -1;
    switch (node.type) {
      case 'Literal':
        key = advance(String(node['raw']));
        break;
      case 'Identifier':
        key = advance(String(node['name']));
        break;
      case 'ThisExpression':
        key = advance('this');
        break;
      case 'MemberExpression': {
        const member = node as jsep.MemberExpression;
        visit(member.object);
        if (member.computed) {
          // Point just inside the bracket: the property expression may itself have an inner key.
          key = advance('[') + 1;
          visit(member.property);
        } else {
          key = visit(member.property);
        }
        break;
      }
      case 'CallExpression': {
        const call = node as jsep.CallExpression;
        key = visit(call.callee);
        call.arguments.forEach(visit);
        break;
      }
      case 'BinaryExpression': {
        const binary = node as jsep.BinaryExpression;
        visit(binary.left);
        key = advance(binary.operator);
        visit(binary.right);
        break;
      }
      case 'UnaryExpression': {
        const unary = node as jsep.UnaryExpression;
        key = advance(unary.operator);
        visit(unary.argument);
        break;
      }
      case 'ArrayExpression':
        key = advance('[');
        for (const element of (node as jsep.ArrayExpression).elements) if (element) visit(element);
        break;
      case 'ConditionalExpression': {
        const conditional = node as jsep.ConditionalExpression;
        visit(conditional.test);
        key = advance('?');
        visit(conditional.consequent);
        advance(':');
        visit(conditional.alternate);
        break;
      }
      case 'Compound':
      case 'SequenceExpression': {
        // The problem is the second expression: point at its first character.
        const parts =
          node.type === 'Compound'
            ? (node as jsep.Compound).body
            : (node as jsep.SequenceExpression).expressions;
        parts.forEach((part, i) => {
          if (i === 1) key = cursor + (/^[\s,;(]*/.exec(source.slice(cursor))?.[0].length ?? 0);
          visit(part);
        });
        break;
      }
    }
    if (node === target) found = key;
    return key;
  };
  visit(root);
  return found === undefined || found < 0 ? undefined : found + 1;
}
