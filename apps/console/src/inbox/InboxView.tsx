import { ConversationList } from './ConversationList';
import { ConversationPane } from './ConversationPane';

export function InboxView({ id }: { id: number | null }) {
  return (
    <div className={`split ${id ? 'has-detail' : ''}`}>
      <ConversationList selected={id} />
      {id ? (
        <ConversationPane key={id} id={id} />
      ) : (
        <section className="detail empty" aria-label="Conversation">
          <p className="muted">Pick a conversation. Use ↑ and ↓ in the list, Enter to open.</p>
        </section>
      )}
    </div>
  );
}
