import { defineMutators, type Transaction } from '@syncline/protocol';
import type { DocMigration, DocNamespaceOptions } from '@syncline/server';

/** Schema 1: a title and plain strings. */
export interface NotesV1 {
  title: string;
  items: string[];
}
/** Schema 2: items became objects. */
export interface NotesV2 {
  title: string;
  items: Array<{ text: string; done: boolean }>;
}
/** Schema 3: the title moved under `meta`. */
export interface NotesV3 {
  meta: { title: string };
  items: Array<{ text: string; done: boolean }>;
}

/** The mutators of the first app version (mutator set version 1, schema 1). */
export const mutatorsV1 = defineMutators(
  {
    add(tx: Transaction<NotesV1>, args: { text: string }) {
      tx.draft.items.push(args.text);
    },
  },
  { version: 1 },
);

/** The mutators of app version 2 (schema 2). */
export const mutatorsV2 = defineMutators(
  {
    add(tx: Transaction<NotesV2>, args: { text: string }) {
      tx.draft.items.push({ text: args.text, done: false });
    },
    toggle(tx: Transaction<NotesV2>, args: { index: number }) {
      const item = tx.draft.items[args.index];
      if (item) item.done = !item.done;
    },
  },
  { version: 2 },
);

/** The mutators of app version 3 (schema 3). */
export const mutatorsV3 = defineMutators(
  {
    add(tx: Transaction<NotesV3>, args: { text: string }) {
      tx.draft.items.push({ text: args.text, done: false });
    },
    toggle(tx: Transaction<NotesV3>, args: { index: number }) {
      const item = tx.draft.items[args.index];
      if (item) item.done = !item.done;
    },
    rename(tx: Transaction<NotesV3>, args: { title: string }) {
      tx.draft.meta.title = args.title;
    },
  },
  { version: 3 },
);

/** Schema migrations 1 → 2 → 3 (pure functions). */
export const notesMigrations: Record<number, DocMigration> = {
  2: ((s: NotesV1): NotesV2 => ({
    title: s.title,
    items: s.items.map((text) => ({ text, done: false })),
  })) as DocMigration,
  3: ((s: NotesV2): NotesV3 => ({ meta: { title: s.title }, items: s.items })) as DocMigration,
};

/** The `notes` namespace as each app version configures it. */
export const notesV1: DocNamespaceOptions = { mutators: mutatorsV1, initialState: { title: 'Notes', items: [] } };
export const notesV2: DocNamespaceOptions = {
  mutators: mutatorsV2,
  initialState: { title: 'Notes', items: [] },
  schemaVersion: 2,
  migrations: { 2: notesMigrations[2] as DocMigration },
};
export const notesV3: DocNamespaceOptions = {
  mutators: mutatorsV3,
  initialState: { meta: { title: 'Notes' }, items: [] },
  schemaVersion: 3,
  migrations: notesMigrations,
  minMutatorVersion: 2,
};
