/**
 * A transaction in progress on a network SQL database, as a store hands it to
 * the writers that join it (`DocStore.onCommit` listeners). Its shape is the
 * `pg` client's: the PostgreSQL stores pass the transaction's client.
 * Queries run in the transaction; the store commits or rolls it back.
 */
export interface SqlTransaction {
  query(text: string, values?: unknown[]): Promise<{ readonly rows: unknown[]; readonly rowCount: number | null }>;
}
