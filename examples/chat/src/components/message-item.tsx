import { memo, type ReactNode } from 'react';
import type { TimelineMessage } from '../hooks/rooms.ts';
import { REACTIONS } from '../shared/model.ts';
import { Avatar } from './avatar.tsx';
import { CheckIcon, ClockIcon } from './icons.tsx';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function Status({ m, onRetry }: { m: TimelineMessage; onRetry: () => void }): ReactNode {
  if (m.delivery === 'pending') {
    return (
      <span className="msg-status" title="Sending…">
        <ClockIcon /> Sending
      </span>
    );
  }
  if (m.delivery === 'failed') {
    return (
      <span className="msg-status failed" title={m.error}>
        Not sent
        {m.error ? (
          <span className="msg-error" data-testid="send-error">
            : {m.error}
          </span>
        ) : null}
        <button type="button" className="retry" onClick={onRetry}>
          Retry
        </button>
      </span>
    );
  }
  return (
    <span className="msg-status" title="Sent">
      <CheckIcon />
    </span>
  );
}

/** One message: author and time (first of a group), text, reactions, delivery state, "seen by". */
export const MessageItem = memo(function MessageItem({
  m,
  me,
  first,
  onReact,
  onRetry,
}: {
  m: TimelineMessage;
  me: string;
  first: boolean;
  onReact: (messageId: string, emoji: string) => void;
  onRetry: (m: { id: string; text: string }) => void;
}): ReactNode {
  const mine = m.user === me;
  const reactions = Object.entries(m.reactions).filter(([, users]) => users.length > 0);
  return (
    <>
      <div
        className={`msg${first ? ' first' : ''} ${m.delivery}`}
        data-testid="message"
        data-id={m.id}
        data-delivery={m.delivery}
        data-user={m.user}
      >
        {first ? <Avatar user={m.user} /> : <span className="gutter" />}
        <div className="msg-body">
          {first ? (
            <div className="msg-meta">
              <span className="msg-author">{m.user}</span>
              <time className="msg-time" dateTime={new Date(m.ts).toISOString()}>
                {timeFormat.format(m.ts)}
              </time>
            </div>
          ) : null}
          <div className="msg-text">
            <span data-testid="message-text">{m.text}</span>
            {mine ? <Status m={m} onRetry={() => onRetry(m)} /> : null}
          </div>
          {reactions.length > 0 ? (
            <div className="reactions">
              {reactions.map(([emoji, users]) => (
                <button
                  type="button"
                  key={emoji}
                  className={`reaction${users.includes(me) ? ' mine' : ''}`}
                  title={users.join(', ')}
                  data-testid="reaction"
                  data-emoji={emoji}
                  onClick={() => onReact(m.id, emoji)}
                >
                  {emoji} <span>{users.length}</span>
                </button>
              ))}
            </div>
          ) : null}
        </div>
        {m.delivery === 'failed' ? null : (
          <div className="msg-actions" role="toolbar" aria-label="React">
            {REACTIONS.map((emoji) => (
              <button
                type="button"
                key={emoji}
                title={`React with ${emoji}`}
                data-testid={`react-${emoji}`}
                onClick={() => onReact(m.id, emoji)}
              >
                {emoji}
              </button>
            ))}
          </div>
        )}
      </div>
      {m.seenBy.length > 0 ? (
        <div className="seen" data-testid="seen-by">
          Seen by {m.seenBy.join(', ')}
          <span className="avatar-stack">
            {m.seenBy.slice(0, 5).map((u) => (
              <Avatar key={u} user={u} small />
            ))}
          </span>
        </div>
      ) : null}
    </>
  );
});
