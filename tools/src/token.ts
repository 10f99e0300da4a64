// `npm run token -- [options]` (`--help` lists them): a development JWT.
import { randomUUID } from 'node:crypto';
import { loadConfig, Role, signToken } from '@comms/core/platform';
import { commandLine, fail } from './cli.js';

const USAGE = `usage: npm run token -- [options]

Prints a development JWT signed with JWT_SECRET, as the platform's User Service would issue it.

options:
  --tenant <slug>      the tenant the token acts on (claim tenant_slug; default demo)
  --role <role>        ${Role.options.join(', ')} (default tenant_admin)
  --sub <uuid>         the user id (claim sub; default: a new one)
  --service            a service token (type service: acts on any tenant) instead of a user's
  --expires <span>     how long it lasts: 30m, 12h, 7d (default 12h)
  -h, --help           this text`;

const { values } = commandLine(USAGE, {
  tenant: { type: 'string', default: 'demo' },
  role: { type: 'string', default: 'tenant_admin' },
  sub: { type: 'string' },
  service: { type: 'boolean', default: false },
  expires: { type: 'string', default: '12h' },
});
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (err) {
  fail((err as Error).message);
}
if (!config.JWT_SECRET) fail('npm run token signs with JWT_SECRET; with JWKS_URL, tokens come from the User Service');
const role = Role.safeParse(values.role);
if (!role.success) fail(`--role must be one of ${Role.options.join(', ')} (see --help)`, 2);
if (!/^\d+[smhdw]$/.test(values.expires))
  fail(`--expires takes a number and a unit, like 30m, 12h or 7d (see --help)`, 2);
if (values.sub !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(values.sub))
  fail('--sub takes a user id, a UUID (see --help)', 2);
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
