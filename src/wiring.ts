// Part of the composition root: connects what the roles report (deliveries, batches, retries) and
// what they can be asked at scrape time (pool, checks, lag, assignment, waiters) to src/metrics,
// which knows none of them.
import type { Pool } from './db/pool.js';
import type { DeliveryObserver } from './kafka/delivery.js';
import type { BatchSummary, Processor } from './processor/processor.js';
import type { VerdictWaiter } from './api/verdict-waiter.js';
import { runChecks, type Check } from './health/checks.js';
import type { Metrics } from './metrics/registry.js';
import type { EventType } from './domain/order.js';
import type { Outcome } from './domain/verdict.js';
import { recordBatch, recordDelivery, recordDeliveryFailure, recordRetry } from './metrics/observers.js';

export function deliveryObserver(metrics: Metrics): DeliveryObserver {
  return {
    delivered: (seconds) => recordDelivery(metrics, seconds),
    failed: () => recordDeliveryFailure(metrics),
  };
}

export function batchObserver(metrics: Metrics): (summary: BatchSummary) => void {
  return ({ messages, events, applied, deadLetters, applySeconds }) => {
    // One verdict per event, in the same order. A handful of (event, outcome) pairs: a linear
    // search, and no key string built per message.
    const counts: { event: EventType; outcome: Outcome; count: number }[] = [];
    const verdicts = applied?.plan.verdicts ?? [];
    next: for (let i = 0; i < verdicts.length; i++) {
      const event = events[i]!.type;
      const outcome = verdicts[i]!.outcome;
      for (const entry of counts) {
        if (entry.event === event && entry.outcome === outcome) {
          entry.count++;
          continue next;
        }
      }
      counts.push({ event, outcome, count: 1 });
    }
    recordBatch(metrics, {
      messages,
      deadLetters,
      applySeconds: applied ? applySeconds : undefined,
      verdicts: counts,
      // orders stored by this batch (replays are DUPLICATE verdicts and have no row)
      decidedCreatedAt: applied?.plan.orderRows.map((row) => row.order.createdAt) ?? [],
    });
  };
}

export const retryObserver = (metrics: Metrics) => (operation: string) => recordRetry(metrics, operation);

export interface ScrapeSources {
  pool: Pool;
  checks: Record<string, Check>;
  processor?: Processor | undefined;
  /** The topic and group the processor consumes, for its assignment gauge. */
  consumes?: { topic: string; group: string };
  verdicts?: VerdictWaiter | undefined;
}

/** Points the scrape-time gauges at this process's pool, checks, processor and waiters. */
export function readAtScrape(metrics: Metrics, { pool, checks, processor, consumes, verdicts }: ScrapeSources): void {
  metrics.scrape.dbPool = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
  metrics.scrape.dependencies = async () =>
    Object.fromEntries(Object.entries(await runChecks(checks, 1500)).map(([name, result]) => [name, result === 'ok']));
  if (processor && consumes) {
    metrics.scrape.lag = () => processor.lag();
    metrics.scrape.assignedPartitions = () => [{ ...consumes, partitions: processor.assignedPartitions.length }];
  }
  if (verdicts) {
    metrics.scrape.verdictWaiters = () => verdicts.waitingCount;
    metrics.scrape.verdictWaitsCapped = () => verdicts.refused;
  }
}
