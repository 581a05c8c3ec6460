import { type FormEvent, type KeyboardEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import { MAX_TEXT } from '../shared/model.ts';
import { SendIcon } from './icons.tsx';

const TYPING_IDLE_MS = 3_000;

/** The message box: Enter sends, Shift+Enter adds a line; reports typing while the user types. */
export function Composer({
  room,
  onSend,
  onTyping,
}: {
  room: string;
  onSend: (text: string) => void;
  onTyping: (typing: boolean) => void;
}): ReactNode {
  const [text, setText] = useState('');
  const idle = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(
    () => () => {
      if (idle.current) clearTimeout(idle.current);
    },
    [],
  );

  const stopTyping = (): void => {
    if (idle.current) clearTimeout(idle.current);
    idle.current = undefined;
    onTyping(false);
  };

  const change = (value: string): void => {
    setText(value);
    if (value.trim() === '') {
      stopTyping();
      return;
    }
    onTyping(true);
    if (idle.current) clearTimeout(idle.current);
    idle.current = setTimeout(stopTyping, TYPING_IDLE_MS);
  };

  const submit = (e?: FormEvent): void => {
    e?.preventDefault();
    const t = text.trim();
    if (!t) return;
    onSend(t);
    setText('');
    stopTyping();
    input.current?.focus();
  };

  const keyDown = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  return (
    <div className="composer">
      <form onSubmit={submit}>
        <textarea
          ref={input}
          rows={1}
          value={text}
          maxLength={MAX_TEXT}
          placeholder={`Message #${room}`}
          aria-label="Message"
          data-testid="composer"
          onChange={(e) => change(e.target.value)}
          onKeyDown={keyDown}
          onBlur={stopTyping}
        />
        <button className="send-btn" type="submit" disabled={!text.trim()} aria-label="Send" title="Send">
          <SendIcon />
        </button>
      </form>
      <div className="hint">
        <b>Enter</b> to send · <b>Shift + Enter</b> for a new line
      </div>
    </div>
  );
}
