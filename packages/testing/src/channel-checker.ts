import { AnomalyLog, plural } from './anomaly-log.js';
import { canonicalJson } from './canonical-json.js';
import {
  CHANNEL_ANOMALY_KINDS,
  type ChannelAnomaly,
  type ChannelCheckOptions,
  type ChannelCheckResult,
  type ChannelHistoryStats,
  describeChannelAnomaly,
} from './channel-anomalies.js';
import type { FinalChannelHistory, PublishAttempt, RecordedHistory } from './channel-history.js';
import { type Attribution, ChannelPositions, type EpochPositions, epochKey } from './channel-positions.js';
import { type HeldWindow, SubscriberStreams } from './subscriber-streams.js';

interface Holder extends HeldWindow {
  readonly subscriber: string;
}

/**
 * Checks a recorded channel history against Syncline's channel guarantees
 * (docs/guarantees.md, "Checking a history") and reports every anomaly:
 * gaps, duplicate deliveries and publications, reorderings, divergent
 * positions, acknowledged publications lost, misses no `recovered: false`
 * covers, acks of another payload, and failed publishes that were applied.
 *
 * Pure and deterministic: the same history gives the same result. Runs in
 * time linear in the history (plus sorting each epoch's offsets once), so a
 * history of 100k deliveries checks in well under a second. Publishes whose
 * outcome is unknown or pending are never held against the system.
 */
export function checkChannelHistory(history: RecordedHistory, options: ChannelCheckOptions = {}): ChannelCheckResult {
  const payloadKey = options.payloadKey ?? canonicalJson;
  const quiescent = options.quiescent ?? true;
  const log = new AnomalyLog<ChannelAnomaly>(CHANNEL_ANOMALY_KINDS, options.maxExamples);

  // Who sent each payload: anomalies about "the same publication" are judged only for payloads one key sent.
  const sentKey = history.publishes.map((p) => payloadKey(p.payload));
  const attribution = new Map<string, Attribution>();
  history.publishes.forEach((p, i) => {
    const k = epochKey(p.channel, sentKey[i] ?? '');
    const had = attribution.get(k);
    if (had === undefined) attribution.set(k, { publisher: p.publisher, key: p.key });
    else if (had !== null && (had.publisher !== p.publisher || had.key !== p.key)) attribution.set(k, null);
  });

  const positions = new ChannelPositions(attribution, log);
  const streams = new SubscriberStreams(log);
  const lastEpoch = new Map<string, string>();
  const channels = new Set<string>();
  let deliveries = 0;
  let replies = 0;
  let notRecovered = 0;

  history.events.forEach((e, index) => {
    channels.add(e.channel);
    if (e.type === 'delivery') {
      deliveries++;
      lastEpoch.set(e.channel, e.epoch);
      positions.observe(e.channel, e.epoch, e.offset, {
        key: payloadKey(e.payload),
        payload: e.payload,
        source: { from: 'delivery', subscriber: e.subscriber, event: index },
      });
    } else if (e.type === 'subscribed') {
      replies++;
      if (e.recovered === false) notRecovered++;
      lastEpoch.set(e.channel, e.epoch);
    }
    streams.apply(e, index);
  });

  const finals = new Map<string, FinalChannelHistory>();
  for (const f of history.finals) {
    channels.add(f.channel);
    finals.set(f.channel, f);
    positions.noteOffset(f.channel, f.epoch, f.offset);
    for (const p of f.publications) {
      positions.observe(f.channel, f.epoch, p.offset, {
        key: payloadKey(p.payload),
        payload: p.payload,
        source: { from: 'final-history' },
      });
    }
  }

  const counts = { acked: 0, failed: 0, unknown: 0 };
  history.publishes.forEach((p, i) => {
    channels.add(p.channel);
    if (p.outcome.kind === 'acked') {
      counts.acked++;
      if (!lastEpoch.has(p.channel)) lastEpoch.set(p.channel, p.outcome.epoch);
      positions.ack(p, sentKey[i] ?? '');
    } else if (p.outcome.kind === 'failed') counts.failed++;
    else counts.unknown++;
  });
  positions.classify();

  /** The epoch a channel ended in: the final history's, else the last one seen. */
  const currentEpoch = (channel: string): string | undefined => finals.get(channel)?.epoch ?? lastEpoch.get(channel);

  streams.finish((s) =>
    quiescent && currentEpoch(s.channel) === s.epoch ? (positions.find(s.channel, s.epoch)?.maxOffset ?? s.pos) : s.pos,
  );

  const holders = new Map<string, Holder[]>();
  for (const s of streams.streams()) {
    for (const t of s.tracks.values()) {
      const ep = positions.find(s.channel, t.epoch);
      if (!ep || t.windows.length === 0) continue;
      const key = epochKey(s.channel, t.epoch);
      const list = holders.get(key) ?? [];
      holders.set(key, list);
      const reported = new Set<number>();
      for (const w of t.windows) {
        list.push({ subscriber: s.subscriber, from: w.from, to: w.to });
        reportMisses(positions, ep, w, (offset, payload) => {
          if (t.delivered.has(offset) || reported.has(offset) || SubscriberStreams.inGap(t, offset)) return;
          reported.add(offset);
          log.add({
            kind: 'uncovered-miss',
            subscriber: s.subscriber,
            channel: s.channel,
            epoch: t.epoch,
            offset,
            payload,
            window: { from: w.from, to: w.to },
            lastDelivered: t.maxDelivered,
          });
        });
      }
    }
  }

  reportLostAcks(history.publishes, positions, holders, finals, currentEpoch, log);
  reportFailedButApplied(history.publishes, sentKey, attribution, positions, log);

  const stats: ChannelHistoryStats = {
    publishes: history.publishes.length,
    ...counts,
    deliveries,
    subscribeReplies: replies,
    notRecovered,
    subscribers: streams.subscriberCount,
    channels: channels.size,
    positions: positions.size,
  };
  const ok = log.total === 0;
  return { ok, counts: log.counts(), examples: log.examples(), stats, summary: summarise(stats, log) };
}

/** Calls `miss` for every observed position (delivered to someone or in the final history) inside `w`. */
function reportMisses(
  positions: ChannelPositions,
  ep: EpochPositions,
  w: HeldWindow,
  miss: (offset: number, payload: unknown) => void,
): void {
  const sorted = positions.sortedOffsets(ep);
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) < w.from) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < sorted.length; i++) {
    const offset = sorted[i] ?? 0;
    if (offset > w.to) break;
    const info = ep.byOffset.get(offset);
    if (info?.observed && (info.delivered || info.inFinal)) miss(offset, info.observed.payload);
  }
}

function reportLostAcks(
  publishes: readonly PublishAttempt[],
  positions: ChannelPositions,
  holders: ReadonlyMap<string, readonly Holder[]>,
  finals: ReadonlyMap<string, FinalChannelHistory>,
  currentEpoch: (channel: string) => string | undefined,
  log: AnomalyLog<ChannelAnomaly>,
): void {
  const seen = new Set<string>();
  const minRetained = new Map<string, number>();
  for (const f of finals.values()) {
    let min = Number.POSITIVE_INFINITY;
    for (const r of f.publications) if (r.offset < min) min = r.offset;
    minRetained.set(f.channel, min);
  }
  for (const p of publishes) {
    if (p.outcome.kind !== 'acked') continue;
    const { epoch, offset } = p.outcome;
    const id = `${epochKey(p.channel, epoch)}\u0000${offset}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const info = positions.find(p.channel, epoch)?.byOffset.get(offset);
    if (!info || info.delivered || info.inFinal) continue;
    if (currentEpoch(p.channel) !== epoch) continue; // lost with its epoch: subscribers are told recovered:false
    const held = (holders.get(epochKey(p.channel, epoch)) ?? []).filter((h) => offset >= h.from && offset <= h.to);
    const final = finals.get(p.channel);
    let finalSays = false;
    if (final && final.epoch === epoch) {
      finalSays = offset > final.offset || offset >= (minRetained.get(p.channel) ?? Number.POSITIVE_INFINITY);
    }
    if (held.length === 0 && !finalSays) continue;
    const subscribers = [...new Set(held.map((h) => h.subscriber))].slice(0, 10);
    log.add({
      kind: 'lost-ack',
      channel: p.channel,
      epoch,
      offset,
      publish: p.id,
      publisher: p.publisher,
      key: p.key,
      payload: p.payload,
      subscribers,
      ...(final && final.epoch === epoch ? { finalOffset: final.offset } : {}),
    });
  }
}

function reportFailedButApplied(
  publishes: readonly PublishAttempt[],
  sentKey: readonly string[],
  attribution: ReadonlyMap<string, Attribution>,
  positions: ChannelPositions,
  log: AnomalyLog<ChannelAnomaly>,
): void {
  const byKey = new Map<string, { failed?: { code: string; index: number }; other: boolean }>();
  publishes.forEach((p, index) => {
    const id = `${epochKey(p.channel, p.publisher)}\u0000${p.key}`;
    const entry = byKey.get(id) ?? { other: false };
    byKey.set(id, entry);
    if (p.outcome.kind === 'failed') entry.failed ??= { code: p.outcome.code, index };
    else entry.other = true;
  });
  for (const entry of byKey.values()) {
    if (!entry.failed || entry.other) continue;
    const p = publishes[entry.failed.index];
    const pk = sentKey[entry.failed.index];
    if (!p || pk === undefined || !attribution.get(epochKey(p.channel, pk))) continue;
    const where = positions.observedAt(p.channel, pk);
    if (!where) continue;
    log.add({
      kind: 'failed-but-applied',
      channel: p.channel,
      publisher: p.publisher,
      key: p.key,
      code: entry.failed.code,
      payload: p.payload,
      epoch: where.epoch,
      offset: where.offset,
    });
  }
}

function summarise(s: ChannelHistoryStats, log: AnomalyLog<ChannelAnomaly>): string {
  const head =
    `Channel history: ${plural(s.publishes, 'publish attempt')} (${s.acked} acked, ${s.failed} failed, ` +
    `${s.unknown} unknown), ${plural(s.deliveries, 'delivery', 'deliveries')} to ${plural(s.subscribers, 'subscriber')} ` +
    `on ${plural(s.channels, 'channel')}, ${plural(s.subscribeReplies, 'subscribe reply', 'subscribe replies')} ` +
    `(${s.notRecovered} recovered:false), ${plural(s.positions, 'position')}.`;
  if (log.total === 0) return `${head} No anomaly.`;
  const firsts = log.firsts();
  const counts = firsts.map((f) => plural(f.count, f.kind)).join(', ');
  const details = firsts.map((f) => `First ${f.kind}: ${describeChannelAnomaly(f.first)}.`).join(' ');
  return `${head} ${plural(log.total, 'anomaly', 'anomalies')}: ${counts}. ${details}`;
}
