// Translates what the roles report (deliveries, batches, retries) into metric updates, and reads
// gauges that are cheaper to compute at scrape time (lag, pool, waiters, dependency checks).
import type { Pool } from '../db/pool.js';
import type { DeliveryObserver } from '../kafka/delivery.js';
import type { BatchSummary, Processor } from '../processor/processor.js';
import type { VerdictWaiter } from '../api/verdict-waiter.js';
import { runChecks, type Check } from '../api/health.js';
import type { Metrics } from './registry.js';

export function deliveryObserver(metrics: Metrics): DeliveryObserver {
  return {
    delivered: (seconds) => metrics.producerDelivery.observe(seconds),
    failed: () => metrics.producerErrors.inc(),
  };
}

export function batchObserver(metrics: Metrics): (summary: BatchSummary) => void {
  return ({ messages, applied, deadLetters, applySeconds }) => {
    metrics.batchMessages.observe(messages);
    if (applied) metrics.applyDuration.observe(applySeconds);
    if (deadLetters) metrics.messages.inc({ outcome: 'dlq' }, deadLetters);
    const counts: Record<string, number> = {};
    for (const v of applied?.plan.verdicts ?? []) {
      const outcome = v.outcome.toLowerCase();
      counts[outcome] = (counts[outcome] ?? 0) + 1;
    }
    for (const [outcome, n] of Object.entries(counts)) if (n) metrics.messages.inc({ outcome }, n);
  };
}

export interface ScrapeSources {
  pool: Pool;
  checks: Record<string, Check>;
  processor?: Processor | undefined;
  verdicts?: VerdictWaiter | undefined;
}

/** Points the scrape-time gauges at this process's pool, checks, processor and waiters. */
export function readAtScrape(metrics: Metrics, { pool, checks, processor, verdicts }: ScrapeSources): void {
  metrics.scrape.dbPool = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
  metrics.scrape.dependencies = async () =>
    Object.fromEntries(Object.entries(await runChecks(checks, 1500)).map(([name, result]) => [name, result === 'ok']));
  if (processor) {
    metrics.scrape.lag = () => processor.lag();
    metrics.scrape.assignedPartitions = () => processor.assignedPartitions.length;
  }
  if (verdicts) metrics.scrape.verdictWaiters = () => verdicts.waitingCount;
}
