// /api/v1/escalation-policies — project admins define who is paged, in which order, how long
// each step waits and how often the policy repeats. Rule readers may read them.
import { createRoute } from '@hono/zod-openapi';
import * as policies from '../../domain/alerting/policies.js';
import type { DomainDeps } from '../../domain/deps.js';
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
} from '../openapi.js';

const Target = z
  .object({ type: z.enum(policies.TARGET_TYPES), id: z.uuid() })
  .openapi('EscalationTarget', { example: { type: 'schedule', id: '0193a0c4-7b1e-7c3d-9f00-000000000001' } });

const Step = z
  .object({
    targets: z.array(Target).min(1, 'a step must notify at least one target').max(20),
    waitMinutes: z
      .number()
      .int()
      .min(policies.WAIT_MINUTES.min, 'waitMinutes is at least 1')
      .max(policies.WAIT_MINUTES.max, 'waitMinutes is at most 1440 (24 h)')
      .openapi({ description: 'Minutes before the next step (or the repeat, or the fallback)' }),
  })
  .openapi('EscalationStep');

const policyFields = {
  name: z.string().trim().min(1).max(120),
  description: z.string().max(500).nullable().optional(),
  steps: z.array(Step).min(1, 'a policy needs at least one step').max(20),
  repeat: z
    .number()
    .int()
    .min(0)
    .max(policies.MAX_REPEAT)
    .optional()
    .openapi({ description: 'How many more times the steps run when nobody acknowledged' }),
  renotifyMinutes: z
    .number()
    .int()
    .min(policies.WAIT_MINUTES.min)
    .max(policies.WAIT_MINUTES.max)
    .nullable()
    .optional()
    .openapi({ description: 'Remind whoever acknowledged every M minutes until the alert is resolved' }),
  fallbackPolicyId: z.uuid().nullable().optional().openapi({
    description: 'Continue with this policy when the steps and repeats are exhausted (no cycles)',
  }),
};

const PolicySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    steps: z.array(Step),
    repeat: z.number().int(),
    renotifyMinutes: z.number().int().nullable(),
    fallbackPolicyId: z.string().nullable(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .openapi('EscalationPolicy');

const CreatePolicy = z.object(policyFields).openapi('CreateEscalationPolicy', {
  example: {
    name: 'Payments',
    steps: [
      { targets: [{ type: 'schedule', id: '0193a0c4-7b1e-7c3d-9f00-000000000001' }], waitMinutes: 5 },
      { targets: [{ type: 'role', id: '0193a0c4-7b1e-7c3d-9f00-000000000002' }], waitMinutes: 10 },
    ],
    repeat: 1,
    renotifyMinutes: 60,
  },
});
const UpdatePolicy = z.object(policyFields).partial().openapi('UpdateEscalationPolicy');

const tags = ['Escalation policies'];

export function escalationPolicyRoutes(deps: DomainDeps) {
  const router = createRouter();
  router.use('*', authenticate(deps, 'user', 'superAdmin'));
  const errors = errorResponses(400, 401, 403, 404, 409);
  const read = requirePermission('rules:read');
  const write = requirePermission('projects:admin');

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Create an escalation policy',
      security: security.bearerOrSuperAdmin,
      middleware: [write] as const,
      request: { body: jsonBody(CreatePolicy) },
      responses: { 201: jsonContent(PolicySchema, 'The policy'), ...errors },
    }),
    async (c) =>
      c.json(await policies.createPolicy(deps, c.get('principal'), projectOf(c), c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List escalation policies by name',
      security: security.bearerOrSuperAdmin,
      middleware: [read] as const,
      request: { query: PageQuery },
      responses: { 200: jsonContent(pageOf(PolicySchema), 'A page of policies'), ...errors },
    }),
    async (c) => c.json(await policies.listPolicies(deps, projectOf(c), c.req.valid('query')), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'Get an escalation policy',
      security: security.bearerOrSuperAdmin,
      middleware: [read] as const,
      request: { params: IdParam },
      responses: { 200: jsonContent(PolicySchema, 'The policy'), ...errors },
    }),
    async (c) => c.json(await policies.getPolicy(deps, projectOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}',
      tags,
      summary: 'Change an escalation policy (open alerts follow the new steps from their next one)',
      security: security.bearerOrSuperAdmin,
      middleware: [write] as const,
      request: { params: IdParam, body: jsonBody(UpdatePolicy) },
      responses: { 200: jsonContent(PolicySchema, 'The policy'), ...errors },
    }),
    async (c) =>
      c.json(
        await policies.updatePolicy(
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
      summary: 'Delete an escalation policy (refused while a rule or policy uses it)',
      security: security.bearerOrSuperAdmin,
      middleware: [write] as const,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...errors },
    }),
    async (c) => {
      await policies.deletePolicy(deps, c.get('principal'), projectOf(c), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  return router;
}
