// Who leads and who follows: partition leaders and in-sync replicas of topics, for the tests that
// kill brokers of a three-node cluster.
import { createAdmin, type IAdminClient } from '../../src/kafka/clients.js';
import { eventually } from './eventually.js';

export interface PartitionState {
  topic: string;
  partition: number;
  leader: number | null;
  replicas: number[];
  isr: number[];
}

export function partitionStates(admin: IAdminClient, topics: string[]): Promise<PartitionState[]> {
  return new Promise((resolve, reject) =>
    admin.describeTopics(topics, { timeout: 5000 }, (err, result) => {
      if (err) return reject(err);
      const failed = result.find((t) => t.error);
      if (failed) return reject(new Error(`cannot describe ${failed.name}: ${failed.error?.message}`));
      resolve(result.flatMap((t) => t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partition,
        leader: p.leader?.id ?? null,
        replicas: p.replicas.map((r) => r.id),
        isr: p.isr.map((r) => r.id),
      }))));
    }),
  );
}

/** The node that leads the most partitions of `topic`. */
export async function busiestLeader(brokers: string, topic: string): Promise<{ node: number; leads: number; of: number }> {
  const admin = createAdmin({ brokers });
  try {
    const partitions = await partitionStates(admin, [topic]);
    const counts = new Map<number, number>();
    for (const p of partitions) if (p.leader !== null) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
    const [node, leads] = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;
    return { node, leads, of: partitions.length };
  } finally {
    admin.disconnect();
  }
}

/** Waits until every partition of `topics` has a leader and all `replicas` in sync. */
export async function awaitFullIsr(brokers: string, topics: string[], replicas: number, timeoutMs = 120_000): Promise<void> {
  const admin = createAdmin({ brokers });
  try {
    await eventually(
      `every partition of ${topics.join(', ')} led and ${replicas} replicas in sync`,
      async () => {
        try {
          return (await partitionStates(admin, topics)).filter((p) => p.leader === null || p.isr.length < replicas).map((p) => `${p.topic}/${p.partition} isr ${p.isr}`);
        } catch (err) {
          return [`cannot describe: ${(err as Error).message}`];
        }
      },
      (lagging) => lagging.length === 0,
      timeoutMs,
      500,
    );
  } finally {
    admin.disconnect();
  }
}
