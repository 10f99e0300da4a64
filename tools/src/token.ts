// `npm run token -- --tenant demo --role tenant_admin [--sub <uuid>] [--service] [--expires 12h]`: a development JWT.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Role, signToken } from '@comms/core/platform';
import { loadConfig } from '@comms/core/platform';

const { values } = parseArgs({
  options: {
    tenant: { type: 'string', default: 'demo' },
    role: { type: 'string', default: 'tenant_admin' },
    sub: { type: 'string' },
    service: { type: 'boolean', default: false },
    expires: { type: 'string', default: '12h' },
  },
});
const config = loadConfig(process.env);
if (!config.JWT_SECRET) {
  console.error('npm run token signs with JWT_SECRET; with JWKS_URL, tokens come from the User Service');
  process.exit(1);
}
const role = Role.safeParse(values.role);
if (!role.success) {
  console.error(`--role must be one of ${Role.options.join(', ')}`);
  process.exit(1);
}
console.log(
  await signToken(
    config.JWT_SECRET,
    {
      sub: values.sub ?? randomUUID(),
      tenant_slug: values.tenant,
      role: role.data,
      type: values.service ? 'service' : 'access',
    },
    values.expires,
  ),
);
