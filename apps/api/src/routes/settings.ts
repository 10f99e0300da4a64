/** Tenant inbox settings: the spam rules (tenant admins change them). */
import { getSpamRules, SpamRules, setSpamRules } from '@comms/core/inbox';
import { AppError, isTenantAdmin } from '@comms/core/platform';
import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../lib/env.js';
import { bearer, jsonBody, jsonResponse, problems, TenantParam } from '../lib/openapi.js';

const SpamRulesSchema = z
  .object({
    blocked_identifiers: z.array(z.string().min(1).max(320)).max(10_000),
    max_messages_per_minute: z.number().int().min(0).max(10_000),
    block_link_only_first_message: z.boolean(),
    keywords: z.array(z.string().min(1).max(200)).max(1_000),
  })
  .openapi('SpamRules');

const tags = ['settings'];
const path = '/api/v1/tenants/{tenant}/communications/settings/spam';

export const settingsRoutes = router()
  .openapi(
    createRoute({
      method: 'get',
      path,
      operationId: 'getSpamRules',
      tags,
      security: bearer,
      request: { params: TenantParam },
      responses: { 200: jsonResponse(SpamRulesSchema, 'The spam rules in force'), ...problems(404) },
    }),
    (c) => c.json(getSpamRules(c.get('ctx')), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path,
      operationId: 'setSpamRules',
      tags,
      security: bearer,
      summary: 'Replace the spam rules (fields left out take their defaults)',
      request: { params: TenantParam, body: jsonBody(SpamRulesSchema.partial()) },
      responses: { 200: jsonResponse(SpamRulesSchema, 'The spam rules now in force'), ...problems(404) },
    }),
    async (c) => {
      if (!isTenantAdmin(c.get('principal')))
        throw new AppError('forbidden', 'only tenant admins change the spam rules');
      const runtime = c.get('runtime');
      const rules = await setSpamRules(c.get('ctx'), SpamRules.parse(c.req.valid('json')), (slug) =>
        runtime.tenants.invalidate(slug),
      );
      return c.json(rules, 200);
    },
  );
