// Which fetched messages are still this replica's to apply, across cooperative rebalances.
//
// The binding runs librdkafka's consume loop on a worker thread and reports a rebalance to
// JavaScript asynchronously, so the consume call in flight can still return messages of a
// partition just revoked — fetched before the revocation, and behind the pending messages the
// processor dropped when it heard of it. Applying and committing those would move the group's
// offset past messages nobody applied (orders lost once this replica dies). So a revocation that
// arrives during a consume call is held back: the call's messages for those partitions are dropped
// when it returns, and only then are the partitions unassigned. Their next owner (perhaps this
// replica again) starts from the last committed offset. Pure bookkeeping: the processor makes the
// calls to the consumer that this returns.
export interface PartitionRef {
  topic: string;
  partition: number;
}

export const partitionKey = (p: PartitionRef) => `${p.topic}/${p.partition}`;

export class Rebalances<P extends PartitionRef = PartitionRef> {
  private readonly owned = new Map<string, P>();
  private inFlight = false;
  private heldBack: P[] = [];

  /** The partitions assigned to this replica, sorted. */
  get assignment(): string[] {
    return [...this.owned.keys()].sort();
  }

  /** The partitions assigned to this replica. */
  get partitions(): P[] {
    return [...this.owned.values()];
  }

  assigned(partitions: readonly P[]): void {
    for (const p of partitions) this.owned.set(partitionKey(p), p);
  }

  /** The partitions to unassign now: none while a consume call is in flight (see returned). */
  revoked(partitions: readonly P[]): P[] {
    for (const p of partitions) this.owned.delete(partitionKey(p));
    if (!this.inFlight) return [...partitions];
    this.heldBack.push(...partitions);
    return [];
  }

  /** A consume call starts. */
  consuming(): void {
    this.inFlight = true;
  }

  /** A consume call returned: its messages still ours, and the revocations to carry out now. */
  returned<M extends PartitionRef>(messages: M[]): { kept: M[]; unassign: P[] } {
    this.inFlight = false;
    if (this.heldBack.length === 0) return { kept: messages, unassign: [] };
    const unassign = this.heldBack.splice(0);
    const revoked = new Set(unassign.map(partitionKey));
    return { kept: messages.filter((m) => !revoked.has(partitionKey(m))), unassign };
  }
}
