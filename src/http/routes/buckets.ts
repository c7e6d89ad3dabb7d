// /api/v1/transfer-buckets — admins (buckets:write) create buckets and set thresholds; the
// external system that holds the money reports balances with the project's API key.
import { createRoute } from '@hono/zod-openapi';
import * as buckets from '../../domain/buckets.js';
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

/** DECIMAL(20, 4): a number or a decimal string, kept exact as a string. */
const Amount = z
  .union([z.number(), z.string()])
  .transform((v) => String(v))
  .pipe(z.string().regex(/^-?\d{1,16}(\.\d{1,4})?$/, 'a decimal with at most 16 digits and 4 decimals'))
  .openapi({ type: 'string', example: '2500.00' });

const BucketSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    balance: z.string(),
    threshold: z.string(),
    currency: z.string().nullable(),
    state: z.enum(['ok', 'low']).openapi({
      description: 'low from the crossing below the threshold until the balance is above it again',
    }),
    lastCheckedAt: z.date().nullable(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .openapi('TransferBucket');

const CreateBucket = z
  .object({
    name: z.string().trim().min(1).max(120),
    balance: Amount.optional(),
    threshold: Amount,
    currency: z.string().min(1).max(8).nullable().optional(),
  })
  .openapi('CreateTransferBucket', {
    example: { name: 'EUR payouts', balance: '50000', threshold: '10000', currency: 'EUR' },
  });

const tags = ['Transfer buckets'];

export function bucketRoutes(deps: DomainDeps) {
  const router = createRouter();
  const admin = () => [authenticate(deps, 'user', 'superAdmin'), requirePermission('buckets:write')];
  const errors = errorResponses(400, 401, 403, 404);

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Create a bucket (one created below its threshold emits bucket.low_balance)',
      security: security.bearerOrSuperAdmin,
      middleware: admin(),
      request: { body: jsonBody(CreateBucket) },
      responses: { 201: jsonContent(BucketSchema, 'The bucket'), ...errors, ...errorResponses(409) },
    }),
    async (c) =>
      c.json(await buckets.createBucket(deps, c.get('principal'), projectOf(c), c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List buckets by name',
      security: security.bearerOrSuperAdmin,
      middleware: admin(),
      request: { query: PageQuery.extend({ state: z.enum(['ok', 'low']).optional() }) },
      responses: { 200: jsonContent(pageOf(BucketSchema), 'A page of buckets'), ...errors },
    }),
    async (c) => c.json(await buckets.listBuckets(deps, projectOf(c), c.req.valid('query')), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'Get a bucket',
      security: security.bearerOrSuperAdmin,
      middleware: admin(),
      request: { params: IdParam },
      responses: { 200: jsonContent(BucketSchema, 'The bucket'), ...errors },
    }),
    async (c) => c.json(await buckets.getBucket(deps, projectOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}/threshold',
      tags,
      summary: 'Set the threshold (a bucket now below it emits bucket.low_balance)',
      security: security.bearerOrSuperAdmin,
      middleware: admin(),
      request: { params: IdParam, body: jsonBody(z.object({ threshold: Amount })) },
      responses: { 200: jsonContent(BucketSchema, 'The bucket'), ...errors },
    }),
    async (c) =>
      c.json(
        await buckets.setThreshold(
          deps,
          c.get('principal'),
          projectOf(c),
          c.req.valid('param').id,
          c.req.valid('json').threshold,
        ),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}/balance',
      tags,
      summary:
        'Report the balance (external system, API key); falling below the threshold emits bucket.low_balance once',
      security: security.apiKey,
      middleware: [authenticate(deps, 'apiKey')],
      request: { params: IdParam, body: jsonBody(z.object({ balance: Amount })) },
      responses: { 200: jsonContent(BucketSchema, 'The bucket'), ...errorResponses(400, 401, 404) },
    }),
    async (c) =>
      c.json(
        await buckets.setBalance(deps, projectOf(c), c.req.valid('param').id, c.req.valid('json').balance),
        200,
      ),
  );

  return router;
}
