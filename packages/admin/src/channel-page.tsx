import type { SynclineClient } from '@syncline/client';
import { useCallback, useEffect, useState } from 'react';
import { getJson } from './api';
import { type ChannelDetail, channelPath, type NamespaceInfo } from './channel-types';
import { formatNumber, formatUptime } from './format';
import { HistoryBrowser } from './history-browser';
import { LiveTail } from './live-tail';
import { consoleHref, Link } from './nav';
import { PresenceMembers } from './presence-members';
import { PublishForm } from './publish-form';

/** The namespace options worth reading, as label and value. */
function optionRows(ns: NamespaceInfo): [string, string][] {
  const seconds = (ms: number) => formatUptime(ms / 1000);
  return [
    ['Namespace', ns.name],
    ['History', ns.history.size > 0 ? `${ns.history.size} publications, ${seconds(ns.history.ttlMs)}` : 'off'],
    ['Clients may publish', ns.allowPublish],
    ['Recovery', ns.recover ? `on, ${seconds(ns.recoverWindowMs ?? 0)} window` : 'off'],
    ['Presence', ns.presence ? `on, at most ${formatNumber(ns.presenceMaxMembers)} members` : 'off'],
    ['Data schema', ns.dataSchema ? 'yes' : 'no'],
    ['Presence state schema', ns.presenceStateSchema ? 'yes' : 'no'],
    ['Publication webhooks', String(ns.publicationWebhooks)],
  ];
}

function Facts({ rows, label }: { rows: [string, string][]; label: string }) {
  return (
    <dl className="facts" aria-label={label}>
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * One channel: its stream position and counts, its namespace options, a
 * live tail, the publish form, the history browser and presence members.
 */
export function ChannelPage({
  channel,
  csrf,
  client,
}: {
  channel: string;
  csrf: string;
  client: SynclineClient | undefined;
}) {
  const [detail, setDetail] = useState<ChannelDetail | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [generation, setGeneration] = useState(0);
  const load = useCallback(() => {
    getJson<ChannelDetail>(channelPath(channel)).then(
      (d) => {
        setDetail(d);
        setError(undefined);
      },
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    );
  }, [channel]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a publish from this page (generation) reads the position again
  useEffect(load, [load, generation]);

  return (
    <section aria-labelledby="page-title" className="page">
      <p className="crumbs">
        <Link href={consoleHref('channels')}>Channels</Link> /
      </p>
      <header className="page-head">
        <h1 id="page-title" className="mono">
          {channel}
        </h1>
        <button type="button" className="secondary" onClick={load}>
          Refresh
        </button>
      </header>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {detail && (
        <div className="facts-grid">
          <Facts
            label="Stream and counts"
            rows={[
              ['Epoch', detail.epoch],
              ['Offset (newest)', formatNumber(detail.offset)],
              ['Oldest retained', formatNumber(detail.minOffset)],
              ['Subscribers', formatNumber(detail.subscribers)],
              ['Present', formatNumber(detail.present)],
            ]}
          />
          <Facts label="Namespace options" rows={optionRows(detail.namespace)} />
        </div>
      )}
      <div className="channel-panels">
        {client && <LiveTail client={client} channel={channel} />}
        <PublishForm channel={channel} csrf={csrf} onPublished={() => setGeneration((g) => g + 1)} />
      </div>
      <HistoryBrowser channel={channel} generation={generation} />
      {detail?.namespace.presence && <PresenceMembers channel={channel} />}
    </section>
  );
}
