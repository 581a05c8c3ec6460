import { defineSlot } from '../session/session-slot.js';
import type { SubscriptionSink } from './subscription-sink.js';

/** The session slot of a connection's channel subscriptions, by channel name. */
export const SESSION_CHANNELS_SLOT = defineSlot<Map<string, SubscriptionSink>>('channels', () => new Map());
