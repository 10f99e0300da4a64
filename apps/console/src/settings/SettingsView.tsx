import { isAdmin } from '../session';
import { useSession } from '../live-context';
import { ChannelAccounts } from './ChannelAccounts';
import { SpamRulesForm } from './SpamRulesForm';
import { WebhookEndpoints } from './WebhookEndpoints';

export function SettingsView() {
  const session = useSession();
  if (!isAdmin(session))
    return (
      <section className="page">
        <h1>Settings</h1>
        <p>Settings are for tenant admins. Your token's role is {session.role}.</p>
      </section>
    );
  return (
    <div className="page">
      <h1>Settings</h1>
      <ChannelAccounts />
      <SpamRulesForm />
      <WebhookEndpoints />
    </div>
  );
}
