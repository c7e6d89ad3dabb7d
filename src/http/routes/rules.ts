// /api/v1/rules — project users with rules:read / rules:write (or a super admin with
// X-Project-Id) manage the rules that turn events into notifications.
import { createRoute } from '@hono/zod-openapi';
import { canonicalId, UUID_PATTERN } from '../../core/ids.js';
import type { DomainDeps } from '../../domain/deps.js';
import * as rules from '../../domain/rules.js';
import { authenticate, projectOf, requirePermission } from '../middleware/auth.js';
import {
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonContent,
  pageOf,
  PageQuery,
  security,
  z,
  Uuid,
} from '../openapi.js';

const Suppression = z
  .object({
    maxMatches: z.number().int().min(1).max(1_000_000).optional(),
    windowSeconds: z.number().int().min(1).max(86_400).optional(),
  })
  .openapi('RuleSuppression', {
    description: "Overrides the project's suppression settings for this rule",
    example: { maxMatches: 5, windowSeconds: 60 },
  });

const RuleAlert = z
  .object({
    dedupKey: z.string().max(500).openapi({
      description: 'Template over the event; events with the same key update one open alert',
      example: '{{event.payload.account}}',
    }),
    resolveWhen: z.string().min(1).max(10_000).nullable().optional().openapi({
      description: 'A condition over later events that resolves the open alert of their dedup key',
      example: 'event.type == "transfer.succeeded"',
    }),
  })
  .openapi('RuleAlert', { description: 'Open an alert (docs/alerting.md) instead of one-off notifications' });

const RuleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    condition: z.string(),
    targetRoles: z.array(z.string()),
    title: z.string(),
    body: z.string(),
    action: z.record(z.string(), z.unknown()).nullable(),
    soundId: z.string().nullable(),
    priority: z.number().int(),
    active: z.boolean(),
    suppression: Suppression.nullable(),
    targetSchedules: z.array(z.string()),
    alert: RuleAlert.nullable(),
    escalationPolicyId: z.string().nullable(),
    createdBy: z.string().nullable(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .openapi('Rule');

const Title = z.string().min(1).max(200).openapi({
  description:
    'Template: `{{event.payload.x}}` placeholders are filled from the event; a placeholder left open is a 400 `invalid_template`',
  example: 'Transfer of {{event.payload.amount}} failed',
});
const Body = z.string().min(1).max(2000);

const ruleFields = {
  name: z.string().trim().min(1).max(120),
  description: z.string().max(500).nullable().optional(),
  // The engine checks the length itself, to answer with its position.
  condition: z.string().min(1).max(10_000).openapi({
    description: 'A condition over the event (see docs/rules.md)',
    example: 'event.type == "transfer.failed" && event.payload.amount > 10000',
  }),
  targetRoles: z
    .array(
      z
        .string()
        .min(1)
        .max(64)
        .transform((ref) => (UUID_PATTERN.test(ref.toLowerCase()) ? canonicalId(ref) : ref)),
    )
    .max(50)
    .openapi({
      description:
        'Roles whose active users are alerted (a new rule names roles, schedules or a policy), each by id or by name (e.g. `member`, as channel auth names them). ' +
        'Names are resolved when the rule is saved (an unknown one is a 400 `unknown_role` naming it); ' +
        'the rule stores, and reads return, role ids.',
      example: ['member'],
    }),
  targetSchedules: z
    .array(z.uuid())
    .max(20)
    .optional()
    .openapi({ description: 'Schedule ids whose on-call users are alerted' }),
  alert: RuleAlert.nullable().optional(),
  escalationPolicyId: z
    .uuid()
    .nullable()
    .optional()
    .openapi({ description: 'Page through this policy (the rule then opens alerts)' }),
  title: Title,
  body: Body,
  action: z.record(z.string(), z.unknown()).nullable().optional(),
  soundId: Uuid.nullable().optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  active: z.boolean().optional(),
  suppression: Suppression.nullable().optional(),
};

const CreateRule = z.object(ruleFields).openapi('CreateRule', {
  example: {
    name: 'Large failed transfer',
    condition: 'event.type == "transfer.failed" && event.payload.amount > 10000',
    targetRoles: ['0193a0c4-7b1e-7c3d-9f00-000000000001'],
    title: 'Transfer of {{event.payload.amount}} failed',
    body: 'Account {{event.payload.account}}: {{event.payload.reason}}',
    priority: 10,
  },
});

const UpdateRule = z.object(ruleFields).partial().openapi('UpdateRule');

const flag = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .optional();

const RuleQuery = PageQuery.extend({
  active: flag,
  priority: z.coerce.number().int().optional(),
  role: Uuid.optional().openapi({ description: 'Only rules targeting this role id' }),
  search: z.string().max(120).optional().openapi({ description: 'In name, description and condition' }),
});

const TestRule = z
  .object({
    condition: z.string().min(1).max(10_000).optional(),
    ruleId: Uuid.optional(),
    title: Title.optional().openapi({ description: "Rendered instead of the saved rule's title (a draft)" }),
    body: Body.optional().openapi({ description: "Rendered instead of the saved rule's body (a draft)" }),
    event: z.record(z.string(), z.unknown()).openapi({
      example: { type: 'transfer.failed', payload: { amount: 12000 } },
    }),
  })
  .refine((v) => (v.condition === undefined) !== (v.ruleId === undefined), {
    message: 'send either condition or ruleId',
    path: ['condition'],
  })
  .openapi('TestRule');

const TestResult = z
  .object({
    condition: z.string(),
    matched: z.boolean(),
    steps: z.array(z.object({ expression: z.string(), value: z.unknown() })),
    notification: z.object({ title: z.string(), body: z.string() }).optional().openapi({
      description: 'When it matched and there are templates (a saved rule, or title and body sent)',
    }),
    suppressed: z
      .boolean()
      .optional()
      .openapi({
        description:
          'For a saved rule that matched: true when the rule is at its suppression limit now (by default 10 ' +
          'matches per rule per minute), so a real match would not be notified but counted in a digest',
      }),
    digestDueAt: z.date().optional().openapi({ description: 'When suppressed: when that digest is due' }),
  })
  .openapi('RuleTestResult');

const tags = ['Rules'];

export function ruleRoutes(deps: DomainDeps) {
  const router = createRouter();
  router.use('*', authenticate(deps, 'user', 'superAdmin'));
  const errors = errorResponses(400, 401, 403, 404);
  const read = requirePermission('rules:read');
  const write = requirePermission('rules:write');

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Create a rule (the condition and templates are compiled; errors name the column)',
      security: security.bearerOrSuperAdmin,
      middleware: [write] as const,
      request: { body: jsonBody(CreateRule) },
      responses: { 201: jsonContent(RuleSchema, 'The rule'), ...errors },
    }),
    async (c) =>
      c.json(await rules.createRule(deps, c.get('principal'), projectOf(c), c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List rules, highest priority first',
      security: security.bearerOrSuperAdmin,
      middleware: [read] as const,
      request: { query: RuleQuery },
      responses: { 200: jsonContent(pageOf(RuleSchema), 'A page of rules'), ...errors },
    }),
    async (c) => c.json(await rules.listRules(deps, projectOf(c), c.req.valid('query')), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/test',
      tags,
      summary: 'Evaluate a condition (or a saved rule) against a sample event, step by step',
      security: security.bearerOrSuperAdmin,
      middleware: [read] as const,
      request: { body: jsonBody(TestRule) },
      responses: { 200: jsonContent(TestResult, 'Whether it matched, and every evaluated step'), ...errors },
    }),
    async (c) =>
      c.json(await rules.testRule(deps, projectOf(c), c.req.valid('json') as rules.RuleTestInput), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'Get a rule',
      security: security.bearerOrSuperAdmin,
      middleware: [read] as const,
      request: { params: IdParam },
      responses: { 200: jsonContent(RuleSchema, 'The rule'), ...errors },
    }),
    async (c) => c.json(await rules.getRule(deps, projectOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}',
      tags,
      summary: 'Change a rule (only the fields sent)',
      security: security.bearerOrSuperAdmin,
      middleware: [write] as const,
      request: { params: IdParam, body: jsonBody(UpdateRule) },
      responses: { 200: jsonContent(RuleSchema, 'The changed rule'), ...errors },
    }),
    async (c) =>
      c.json(
        await rules.updateRule(
          deps,
          c.get('principal'),
          projectOf(c),
          c.req.valid('param').id,
          c.req.valid('json'),
        ),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags,
      summary: 'Delete a rule (soft: its notifications keep pointing at it)',
      security: security.bearerOrSuperAdmin,
      middleware: [write] as const,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...errors },
    }),
    async (c) => {
      await rules.deleteRule(deps, c.get('principal'), projectOf(c), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  return router;
}
