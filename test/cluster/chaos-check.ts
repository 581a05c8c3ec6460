/**
 * The end of a chaos run, shared by the chaos tests: wait until every
 * subscriber and document replica has caught up, record the final
 * histories, check them, log what was checked and keep the histories in a
 * file when something is wrong.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHANNEL_ANOMALY_KINDS,
  type ChannelCheckResult,
  checkChannelHistory,
  checkDocHistory,
  DOC_ANOMALY_KINDS,
  type DocCheckResult,
  type DocHistoryRecorder,
  describeChannelAnomaly,
  describeDocAnomaly,
  type FinalChannelHistory,
  type HistoryRecorder,
} from '@syncline/testing';
import type { ChannelTraffic } from './chaos-channels.js';
import { type DocTraffic, readDoc } from './chaos-docs.js';
import { type ChaosNodes, channelHistories } from './chaos-faults.js';
import { waitUntil } from './chaos-util.js';

/** Longest wait for the last subscriber or replica to catch up, ms. */
const SETTLE_MS = 30_000;

/**
 * Waits until every subscriber of `traffic` is at its channel's last
 * position, and returns each channel's final history.
 */
export async function settledChannels(
  nodes: ChaosNodes,
  channels: readonly string[],
  traffic: ChannelTraffic,
): Promise<Map<string, FinalChannelHistory>> {
  let finals = new Map<string, FinalChannelHistory>();
  await waitUntil(
    async () => {
      finals = await channelHistories(nodes, channels);
      return traffic.lagging(finals).length === 0;
    },
    SETTLE_MS,
    'every subscriber at its channel’s last position',
    () => traffic.lagging(finals).slice(0, 10).join('; '),
  );
  return finals;
}

/** Waits until every replica of `docTraffic` is at the server's version of its document. */
export async function settledDocs(nodes: ChaosNodes, docs: readonly string[], docTraffic: DocTraffic): Promise<void> {
  const serverVersions = new Map<string, number>();
  await waitUntil(
    async () => {
      for (const d of docs) serverVersions.set(d, (await readDoc(nodes.apiUrl(), d)).version);
      return docTraffic.lagging(serverVersions).length === 0;
    },
    SETTLE_MS,
    'every document replica synced at the server’s version',
    () => docTraffic.lagging(serverVersions).slice(0, 10).join('; '),
  );
}

/** What a chaos run recorded, and the checks it adds of its own. */
export interface ChaosOutcome {
  /** Names the histories' file (`syncline-<name>-<seed>-<time>.json`). */
  readonly name: string;
  readonly seed: number;
  readonly rec: HistoryRecorder;
  readonly docRec: DocHistoryRecorder;
  readonly channelTraffic: ChannelTraffic;
  readonly docTraffic: DocTraffic;
  /** The run's own findings (lost acknowledgements it looked for, epochs that should have changed…). */
  readonly problems: readonly string[];
  readonly log: (line: string) => void;
}

/** The checkers' verdicts and every problem found, the anomalies first. */
export interface ChaosVerdict {
  readonly channels: ChannelCheckResult;
  readonly docs: DocCheckResult;
  readonly problems: string[];
}

/**
 * Checks the recorded histories, logs the summaries, and writes both
 * histories to a file in the temp folder when anything is wrong (to replay
 * the checker on them).
 */
export function checkChaos(run: ChaosOutcome): ChaosVerdict {
  const history = run.rec.history();
  const docHistory = run.docRec.history();
  const ch = checkChannelHistory(history);
  const dh = checkDocHistory(docHistory);
  const { log } = run;
  log(`publish failures by code: ${JSON.stringify(Object.fromEntries(run.channelTraffic.failures))}`);
  log(`document outcomes: ${JSON.stringify(Object.fromEntries(run.docTraffic.outcomes))}`);
  log(`channels: ${ch.summary}`);
  log(`channel stats: ${JSON.stringify(ch.stats)}`);
  log(`channel anomalies: ${JSON.stringify(ch.counts)}`);
  log(`documents: ${dh.summary}`);
  log(`document stats: ${JSON.stringify(dh.stats)}`);
  log(`document anomalies: ${JSON.stringify(dh.counts)}`);
  const problems = [
    ...CHANNEL_ANOMALY_KINDS.flatMap((k) => ch.examples[k].map((a) => describeChannelAnomaly(a))),
    ...DOC_ANOMALY_KINDS.flatMap((k) => dh.examples[k].map((a) => describeDocAnomaly(a))),
    ...run.channelTraffic.unavailableButApplied,
    ...run.problems,
  ];
  if (problems.length > 0) {
    const file = join(tmpdir(), `syncline-${run.name}-${run.seed}-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify({ seed: run.seed, channels: history, docs: docHistory }));
    log(`histories written to ${file}`);
  }
  return { channels: ch, docs: dh, problems };
}
