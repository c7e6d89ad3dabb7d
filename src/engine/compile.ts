// Compiles a checked condition tree into a tree of closures. No user text is ever turned into
// code: every closure below is fixed, and the condition only chooses how they are wired.
// Evaluation never throws: a missing property is undefined, and any comparison or helper given
// a value of the wrong type yields false (or undefined), so one odd event cannot break a rule.
import {
  parseCondition,
  type ArrayNode,
  type ComparisonOperator,
  type ConditionNode,
  type HelperName,
  type LiteralValue,
  type PropertyName,
} from './parse.js';

export interface TraceStep {
  node: ConditionNode;
  value: unknown;
}

/** Filled in by an evaluation that is given one: nodes visited and, if `steps` is set, their values. */
export interface EvaluationTrace {
  visited: number;
  steps?: TraceStep[];
}

export interface CompiledCondition {
  readonly source: string;
  /** The event types this condition can match, or null when it does not pin `event.type`. */
  readonly requiredTypes: string[] | null;
  readonly nodeCount: number;
  /** True only when the condition's value is exactly `true`. Visits each node at most once. */
  evaluate(event: unknown, trace?: EvaluationTrace): boolean;
}

type Evaluator = (event: unknown, trace: EvaluationTrace | undefined) => unknown;

export function compileCondition(source: string): CompiledCondition {
  const { root, nodeCount } = parseCondition(source);
  const evaluateRoot = compileNode(root);
  return {
    source,
    requiredTypes: requiredTypesOf(root),
    nodeCount,
    evaluate: (event, trace) => evaluateRoot(event, trace) === true,
  };
}

/** An own property of an object (arrays included), or undefined; never reaches a prototype. */
export function ownProperty(value: unknown, key: PropertyName): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key)
    ? (value as Record<PropertyName, unknown>)[key]
    : undefined;
}

function compileNode(node: ConditionNode): Evaluator {
  switch (node.kind) {
    case 'literal': {
      const value = node.value;
      return (_event, trace) => {
        if (trace !== undefined) trace.visited++;
        return value;
      };
    }
    case 'array': {
      const constant = constantElements(node);
      if (constant !== undefined) {
        return (_event, trace) => {
          if (trace !== undefined) trace.visited++;
          return constant;
        };
      }
      const elements = node.elements.map(compileNode);
      return (event, trace) =>
        traced(
          trace,
          node,
          elements.map((element) => element(event, trace)),
        );
    }
    case 'path': {
      const keys = node.keys;
      const weight = keys.length + 1;
      return (event, trace) => {
        let value = event;
        for (const key of keys) value = ownProperty(value, key);
        return traced(trace, node, value, weight);
      };
    }
    case 'compare': {
      const left = compileNode(node.left);
      const right = compileNode(node.right);
      const compare = COMPARISONS[node.operator];
      return (event, trace) => traced(trace, node, compare(left(event, trace), right(event, trace)));
    }
    case 'in':
      return compileIn(node, compileNode(node.item), node.list);
    case 'logical': {
      const left = compileNode(node.left);
      const right = compileNode(node.right);
      // Short-circuits like JavaScript, but any value other than `true` counts as false.
      return node.operator === '&&'
        ? (event, trace) => traced(trace, node, left(event, trace) === true && right(event, trace) === true)
        : (event, trace) => traced(trace, node, left(event, trace) === true || right(event, trace) === true);
    }
    case 'not': {
      const argument = compileNode(node.argument);
      return (event, trace) => traced(trace, node, argument(event, trace) !== true);
    }
    case 'call': {
      const helper = HELPERS[node.helper];
      // The parser checked the arity, so unused slots are never read by the helper.
      const [first = absent, second = absent] = node.args.map(compileNode);
      return (event, trace) => traced(trace, node, helper(first(event, trace), second(event, trace)));
    }
  }
}

function compileIn(node: ConditionNode, item: Evaluator, list: ArrayNode): Evaluator {
  const constant = constantElements(list);
  if (constant !== undefined) {
    // Literals hold no NaN, so Set membership is exactly strict equality here.
    const members = new Set<unknown>(constant);
    return (event, trace) => {
      const value = item(event, trace);
      if (trace !== undefined) trace.visited++;
      return traced(trace, node, value !== undefined && members.has(value));
    };
  }
  const values = compileNode(list);
  return (event, trace) => {
    const value = item(event, trace);
    const candidates = values(event, trace) as unknown[];
    return traced(trace, node, value !== undefined && candidates.indexOf(value) !== -1);
  };
}

const absent: Evaluator = () => undefined;

function traced(
  trace: EvaluationTrace | undefined,
  node: ConditionNode,
  value: unknown,
  weight = 1,
): unknown {
  if (trace !== undefined) {
    trace.visited += weight;
    trace.steps?.push({ node, value });
  }
  return value;
}

/** The values of an array literal made only of literals, frozen and shared across evaluations. */
function constantElements(node: ArrayNode): readonly LiteralValue[] | undefined {
  const values: LiteralValue[] = [];
  for (const element of node.elements) {
    if (element.kind !== 'literal') return undefined;
    values.push(element.value);
  }
  return Object.freeze(values);
}

const bothOrderable = (a: unknown, b: unknown): a is number | string =>
  (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');

// `==` is strict equality, and a missing value (undefined) makes every comparison false,
// including `!=`.
const COMPARISONS: Record<ComparisonOperator, (a: unknown, b: unknown) => boolean> = {
  '==': (a, b) => a !== undefined && a === b,
  '!=': (a, b) => a !== undefined && b !== undefined && a !== b,
  '<': (a, b) => bothOrderable(a, b) && a < (b as typeof a),
  '<=': (a, b) => bothOrderable(a, b) && a <= (b as typeof a),
  '>': (a, b) => bothOrderable(a, b) && a > (b as typeof a),
  '>=': (a, b) => bothOrderable(a, b) && a >= (b as typeof a),
};

const HELPERS: Record<HelperName, (a: unknown, b: unknown) => unknown> = {
  contains: (haystack, needle) =>
    typeof haystack === 'string'
      ? typeof needle === 'string' && haystack.includes(needle)
      : Array.isArray(haystack) && needle !== undefined && haystack.indexOf(needle) !== -1,
  startsWith: (text, prefix) =>
    typeof text === 'string' && typeof prefix === 'string' && text.startsWith(prefix),
  endsWith: (text, suffix) => typeof text === 'string' && typeof suffix === 'string' && text.endsWith(suffix),
  lower: (text) => (typeof text === 'string' ? text.toLowerCase() : undefined),
  len: (value) => (typeof value === 'string' || Array.isArray(value) ? value.length : undefined),
  abs: (value) => (typeof value === 'number' ? Math.abs(value) : undefined),
};

// `event.type == "x"` (either side) or `event.type in ["x", "y"]` as a top-level conjunct pins the
// type; several such conjuncts intersect.
function requiredTypesOf(root: ConditionNode): string[] | null {
  let types: string[] | null = null;
  for (const conjunct of topLevelConjuncts(root)) {
    const pinned = typesPinnedBy(conjunct);
    if (pinned !== null) types = types === null ? [...pinned] : types.filter((type) => pinned.has(type));
  }
  return types === null ? null : types.sort();
}

function topLevelConjuncts(node: ConditionNode): ConditionNode[] {
  return node.kind === 'logical' && node.operator === '&&'
    ? [...topLevelConjuncts(node.left), ...topLevelConjuncts(node.right)]
    : [node];
}

function typesPinnedBy(node: ConditionNode): Set<string> | null {
  if (node.kind === 'compare' && node.operator === '==') {
    const literal = isTypePath(node.left) ? node.right : isTypePath(node.right) ? node.left : undefined;
    return literal?.kind === 'literal' && typeof literal.value === 'string' ? new Set([literal.value]) : null;
  }
  if (node.kind === 'in' && isTypePath(node.item)) {
    const values = constantElements(node.list);
    return values?.every((value) => typeof value === 'string') ? new Set(values as string[]) : null;
  }
  return null;
}

const isTypePath = (node: ConditionNode): boolean =>
  node.kind === 'path' && node.keys.length === 1 && node.keys[0] === 'type';
