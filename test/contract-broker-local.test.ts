import { LocalBroker, openDatabase, SqliteHistory } from '@syncline/server';
import { brokerContract } from '@syncline/testing';

brokerContract({
  name: 'LocalBroker (SQLite)',
  multiNode: false,
  canLoseEverything: false,
  async create() {
    const db = openDatabase(':memory:');
    const brokers: LocalBroker[] = [];
    return {
      async node() {
        const b = new LocalBroker(new SqliteHistory(db));
        brokers.push(b);
        return b;
      },
      async close() {
        for (const b of brokers) await b.close();
        db.close();
      },
    };
  },
});
