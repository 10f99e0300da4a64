/** Tenant provisioning (service tokens and super admins). */
import { AppError, canActOnTenant, isPlatformAdmin } from '@comms/core/platform';
import { deleteTenant, getTenant, provisionTenant, restoreTenant } from '@comms/core/tenancy';
import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../lib/env.js';
import { bearer, jsonBody, jsonResponse, problems, QueryBool, TenantParam, Timestamp } from '../lib/openapi.js';

const Tenant = z
  .object({
    slug: z.string(),
    schema: z.string(),
    name: z.string(),
    status: z.string(),
    created_at: Timestamp,
    deleted_at: Timestamp.nullable(),
  })
  .openapi('Tenant');

const CreateTenant = z
  .object({
    // The pattern is checked by the service too, so a bad slug is a 400 before any SQL.
    slug: z.string().min(1).max(100).openapi({ example: 'acme', pattern: '^[a-z0-9][a-z0-9-]{1,40}$' }),
    name: z.string().trim().min(1).max(200).openapi({ example: 'Acme Travel' }),
  })
  .openapi('CreateTenant');

const tags = ['tenants'];

function requirePlatformAdmin(principal: Parameters<typeof isPlatformAdmin>[0]) {
  if (!isPlatformAdmin(principal))
    throw new AppError('forbidden', 'only service tokens and super admins manage tenants');
}

export const tenantRoutes = router()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/tenants',
      operationId: 'createTenant',
      tags,
      security: bearer,
      summary: 'Provision a tenant: its schema and every migration, in one transaction',
      request: { body: jsonBody(CreateTenant) },
      responses: { 201: jsonResponse(Tenant, 'The tenant'), ...problems(409) },
    }),
    async (c) => {
      requirePlatformAdmin(c.get('principal'));
      return c.json(await provisionTenant(c.get('runtime'), c.req.valid('json')), 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tenants/{tenant}',
      operationId: 'getTenant',
      tags,
      security: bearer,
      request: { params: TenantParam },
      responses: { 200: jsonResponse(Tenant, 'The tenant'), ...problems(404) },
    }),
    async (c) => {
      const { tenant } = c.req.valid('param');
      if (!canActOnTenant(c.get('principal'), tenant))
        throw new AppError('forbidden', 'this token may not read that tenant');
      return c.json(await getTenant(c.get('runtime'), tenant), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/tenants/{tenant}',
      operationId: 'deleteTenant',
      tags,
      security: bearer,
      summary: 'Stop serving the tenant; ?purge=true also drops its schema and data',
      request: { params: TenantParam, query: z.object({ purge: QueryBool.optional() }) },
      responses: { 204: { description: 'Deleted' }, ...problems(404) },
    }),
    async (c) => {
      requirePlatformAdmin(c.get('principal'));
      await deleteTenant(c.get('runtime'), c.req.valid('param').tenant, c.req.valid('query').purge ?? false);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/tenants/{tenant}/restore',
      operationId: 'restoreTenant',
      tags,
      security: bearer,
      summary: 'Serve a deleted (not purged) tenant again, with the data it had',
      request: { params: TenantParam },
      responses: { 200: jsonResponse(Tenant, 'The tenant, active again'), ...problems(404) },
    }),
    async (c) => {
      requirePlatformAdmin(c.get('principal'));
      return c.json(await restoreTenant(c.get('runtime'), c.req.valid('param').tenant), 200);
    },
  );
