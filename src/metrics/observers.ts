// Translates what the roles report (deliveries, batches, retries) into metric updates. The shapes
// here are this module's own: the composition root (src/wiring.ts) maps the roles' reports onto
// them, so metrics depends on nothing above it.
import type { EventType } from '../domain/order.js';
import type { Outcome } from '../domain/verdict.js';
import type { Metrics } from './registry.js';

/** One batch the processor finished: dead letters produced, orders applied and committed. */
export interface BatchReport {
  messages: number;
  deadLetters: number;
  /** Duration of the batch transaction, retries included; undefined when nothing was applied. */
  applySeconds: number | undefined;
  /** Verdicts by event type and outcome (ACCEPTED, REJECTED, CANCELLED, STOCKED, REFUSED, DUPLICATE). */
  verdicts: ReadonlyArray<{ event: EventType; outcome: Outcome; count: number }>;
  /** createdAt (epoch ms) of each order decided in this batch (duplicates excluded). */
  decidedCreatedAt: readonly number[];
}

export function recordBatch(metrics: Metrics, report: BatchReport, now = Date.now()): void {
  metrics.batchMessages.observe(report.messages);
  if (report.applySeconds !== undefined) metrics.applyDuration.observe(report.applySeconds);
  if (report.deadLetters) metrics.messages.inc({ event: 'unknown', outcome: 'dlq' }, report.deadLetters);
  for (const { event, outcome, count } of report.verdicts) if (count) metrics.messages.inc({ event, outcome: outcome.toLowerCase() }, count);
  // A clock behind the api's gives negative spans: counted as 0 rather than dropped.
  metrics.verdictLatency.observeEach(report.decidedCreatedAt, (createdAt) => Math.max(0, now - createdAt) / 1000);
}

export function recordRetry(metrics: Metrics, operation: string): void {
  metrics.retries.inc({ operation });
}

export function recordDelivery(metrics: Metrics, seconds: number): void {
  metrics.producerDelivery.observe(seconds);
}

export function recordDeliveryFailure(metrics: Metrics): void {
  metrics.producerErrors.inc();
}
