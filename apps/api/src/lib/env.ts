/** The typed context variables every route sees. */
import type { Principal, Runtime, Tenant, TenantContext } from '@comms/core/platform';
import { OpenAPIHono } from '@hono/zod-openapi';
import { validationProblem } from './problem.js';

export interface ApiEnv {
  Variables: {
    runtime: Runtime;
    requestId: string;
    principal: Principal;
    tenant: Tenant;
    /** The tenant context services run in (set by the tenant middleware). */
    ctx: TenantContext;
  };
}

/** A router whose validation failures answer 400 problem+json naming the fields. */
export function router(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return validationProblem(c, result.error, result.target);
    },
  });
}
