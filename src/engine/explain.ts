// Shows how a condition evaluated against one event, for the rule test endpoint: every evaluated
// sub-expression (literals aside), as text regenerated from the tree, with its value, innermost
// first, the whole condition last.
import { compileCondition, type EvaluationTrace } from './compile.js';
import type { ConditionNode, PropertyName } from './parse.js';

export interface ExplainStep {
  expression: string;
  value: unknown;
}

export interface Explanation {
  matched: boolean;
  steps: ExplainStep[];
}

/** Throws ConditionError when the condition does not compile. */
export function explainCondition(source: string, event: unknown): Explanation {
  const trace: EvaluationTrace = { visited: 0, steps: [] };
  const matched = compileCondition(source).evaluate(event, trace);
  return {
    matched,
    steps: (trace.steps ?? []).map(({ node, value }) => ({ expression: formatCondition(node), value })),
  };
}

// Binding strength, as in the parser: || < && < == != < relational and `in` < unary.
const PRECEDENCE = { '||': 1, '&&': 2, '==': 6, '!=': 6, '<': 7, '<=': 7, '>': 7, '>=': 7, in: 7 } as const;
const UNARY_PRECEDENCE = 15;
const ATOM_PRECEDENCE = 20;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Source text for a node, with only the parentheses its structure needs. */
export function formatCondition(node: ConditionNode): string {
  switch (node.kind) {
    case 'literal':
      return typeof node.value === 'string' ? JSON.stringify(node.value) : String(node.value);
    case 'array':
      return `[${node.elements.map(formatCondition).join(', ')}]`;
    case 'path':
      return 'event' + node.keys.map(formatAccess).join('');
    case 'compare':
    case 'logical':
      return formatBinary(node.operator, node.left, node.right);
    case 'in':
      return formatBinary('in', node.item, node.list);
    case 'not':
      return `!${wrap(node.argument, UNARY_PRECEDENCE)}`;
    case 'call':
      return `${node.helper}(${node.args.map(formatCondition).join(', ')})`;
  }
}

function formatAccess(key: PropertyName): string {
  if (typeof key === 'number') return `[${key}]`;
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

// Operators are left-associative, so an equally strong operator on the right needs parentheses.
function formatBinary(operator: keyof typeof PRECEDENCE, left: ConditionNode, right: ConditionNode): string {
  const precedence = PRECEDENCE[operator];
  return `${wrap(left, precedence)} ${operator} ${wrap(right, precedence + 1)}`;
}

function wrap(node: ConditionNode, minimum: number): string {
  const text = formatCondition(node);
  return precedenceOf(node) < minimum ? `(${text})` : text;
}

function precedenceOf(node: ConditionNode): number {
  switch (node.kind) {
    case 'compare':
    case 'logical':
      return PRECEDENCE[node.operator];
    case 'in':
      return PRECEDENCE.in;
    case 'not':
      return UNARY_PRECEDENCE;
    default:
      return ATOM_PRECEDENCE;
  }
}
