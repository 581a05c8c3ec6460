import { type KeyboardEvent, useMemo, useRef, useState } from 'react';
import { defaultOpen, JSON_CHILD_PAGE, type JsonRow, jsonRows, primitiveText } from './json-rows';

function summary(row: Extract<JsonRow, { kind: 'value' }>): string {
  const array = Array.isArray(row.value);
  const n = row.size ?? 0;
  return array ? `[${n} item${n === 1 ? '' : 's'}]` : `{${n} key${n === 1 ? '' : 's'}}`;
}

/**
 * A JSON value as a collapsible tree (ARIA `tree`): one tab stop; arrows
 * move, Right/Left open and close (or go to the child or the parent),
 * Enter or Space toggles, Home/End jump. Large values open at the top level
 * only, and each object or array shows its children 100 at a time.
 */
export function JsonTree({ value, label }: { value: unknown; label: string }) {
  const [open, setOpen] = useState<Set<string>>(() => defaultOpen(value));
  const [shown, setShown] = useState<ReadonlyMap<string, number>>(new Map());
  const [active, setActive] = useState('');
  const treeRef = useRef<HTMLDivElement>(null);
  const rows = useMemo(() => jsonRows(value, open, (p) => shown.get(p) ?? JSON_CHILD_PAGE), [value, open, shown]);
  const keyOf = (r: JsonRow) => (r.kind === 'more' ? `${r.path}#more` : r.path);
  const index = Math.max(
    0,
    rows.findIndex((r) => keyOf(r) === active),
  );

  const focus = (i: number) => {
    const r = rows[Math.max(0, Math.min(rows.length - 1, i))];
    if (!r) return;
    setActive(keyOf(r));
    treeRef.current?.querySelector<HTMLElement>(`[data-row="${CSS.escape(keyOf(r))}"]`)?.focus();
  };
  const toggle = (path: string, to?: boolean) =>
    setOpen((o) => {
      const n = new Set(o);
      if (to ?? !n.has(path)) n.add(path);
      else n.delete(path);
      return n;
    });
  const showMore = (path: string) =>
    setShown((m) => new Map(m).set(path, (m.get(path) ?? JSON_CHILD_PAGE) + JSON_CHILD_PAGE));

  const onKey = (e: KeyboardEvent<HTMLElement>) => {
    const r = rows[index];
    if (!r) return;
    const keys: Record<string, () => void> = {
      ArrowDown: () => focus(index + 1),
      ArrowUp: () => focus(index - 1),
      Home: () => focus(0),
      End: () => focus(rows.length - 1),
      ArrowRight: () => {
        if (r.kind === 'value' && r.size !== undefined && !r.expanded) toggle(r.path, true);
        else if (r.kind === 'value' && r.expanded) focus(index + 1);
      },
      ArrowLeft: () => {
        if (r.kind === 'value' && r.expanded) toggle(r.path, false);
        else {
          const parent = r.kind === 'more' ? r.path : r.parent;
          if (parent !== undefined) focus(rows.findIndex((x) => x.kind === 'value' && x.path === parent));
        }
      },
      Enter: () => (r.kind === 'more' ? showMore(r.path) : r.size !== undefined && toggle(r.path)),
      ' ': () => (r.kind === 'more' ? showMore(r.path) : r.size !== undefined && toggle(r.path)),
    };
    const run = keys[e.key];
    if (!run) return;
    e.preventDefault();
    run();
  };

  return (
    <div className="json-tree" role="tree" aria-label={label} ref={treeRef} data-testid="json-tree">
      {rows.map((r, i) => {
        const key = keyOf(r);
        const more = r.kind === 'more';
        const branch = r.kind === 'value' && r.size !== undefined;
        return (
          <div
            key={key}
            data-row={key}
            role="treeitem"
            aria-level={r.depth + 1}
            aria-selected={i === index}
            aria-expanded={r.kind === 'value' && branch ? r.expanded : undefined}
            tabIndex={i === index ? 0 : -1}
            className={`json-row depth-${Math.min(r.depth, 12)}`}
            onFocus={() => setActive(key)}
            onKeyDown={onKey}
            onClick={() => (more ? showMore(r.path) : branch && toggle(r.path))}
          >
            {r.kind === 'more' ? (
              <span className="json-more">
                … {r.hidden} more (show {Math.min(JSON_CHILD_PAGE, r.hidden)})
              </span>
            ) : (
              <>
                <span className="json-caret" aria-hidden="true">
                  {branch ? (r.expanded ? '▾' : '▸') : ''}
                </span>
                {r.label !== undefined && <span className="json-key">{r.label}: </span>}
                {branch ? (
                  <span className="json-summary">{summary(r)}</span>
                ) : (
                  <span className={`json-value json-${r.value === null ? 'null' : typeof r.value}`}>
                    {primitiveText(r.value)}
                  </span>
                )}
              </>
            )}
          </div>
        );
      })}
    </div>
  );
}
