// Back-pressure per lane, with hysteresis. A lane's partitions are paused in the consumer once it
// holds two batches' worth of messages (the count and byte limits of a batch, twice) behind the one
// it applies, and resumed once it holds one or less. So the fetch loop keeps feeding the other
// lanes instead of stopping for all of them (which left lanes idle behind one slow lane and cut
// batches short). The gap between the two marks is there because a pause is not free: librdkafka
// discards a paused partition's prefetched messages and, on resume, refetches from the last
// message it handed us — the whole record batch that holds it (thousands of orders) — so nothing
// is skipped or read twice, but the lane waits for that round trip. Resumed with a batch still in
// hand, it applies that batch meanwhile; and pausing half as often halves the refetches. The fetch
// loop consumes at all only while some lane lacks its next batch (hungry), so under a deep backlog
// the lanes rarely reach the pause mark. Pure bookkeeping: the processor makes the pause and
// resume calls this returns.
import type { PartitionRef } from './rebalances.js';

export class Backpressure {
  private readonly count: number[];
  private readonly bytes: number[];
  private readonly paused: boolean[];

  constructor(
    private readonly lanes: number,
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {
    this.count = Array.from({ length: lanes }, () => 0);
    this.bytes = Array.from({ length: lanes }, () => 0);
    this.paused = Array.from({ length: lanes }, () => false);
  }

  /** The lane a partition's messages go to: a partition is always applied by the same lane. */
  laneOf(partition: number): number {
    return partition % this.lanes;
  }

  /** Messages were dealt to a lane. */
  added(lane: number, messages: number, bytes: number): void {
    this.count[lane]! += messages;
    this.bytes[lane]! += bytes;
  }

  /** A batch was taken from a lane, or its messages dropped (a revocation). */
  removed(lane: number, messages: number, bytes: number): void {
    this.count[lane]! -= messages;
    this.bytes[lane]! -= bytes;
  }

  /** Holds two batches' worth or more: time to pause. */
  private full(lane: number): boolean {
    return this.count[lane]! >= 2 * this.maxMessages || this.bytes[lane]! >= 2 * this.maxBytes;
  }

  /** Holds one batch's worth or less: time to resume. */
  private low(lane: number): boolean {
    return this.count[lane]! <= this.maxMessages && this.bytes[lane]! <= this.maxBytes;
  }

  /** Holds less than one batch: its next batch is not in hand yet. */
  private short(lane: number): boolean {
    return this.count[lane]! < this.maxMessages && this.bytes[lane]! < this.maxBytes;
  }

  /** Of the partitions owned, those to pause now: the ones of lanes that just became full. */
  toPause<P extends PartitionRef>(owned: readonly P[]): P[] {
    const lanes: number[] = [];
    for (let lane = 0; lane < this.lanes; lane++) {
      if (!this.paused[lane] && this.full(lane)) {
        this.paused[lane] = true;
        lanes.push(lane);
      }
    }
    return lanes.length ? owned.filter((p) => lanes.includes(this.laneOf(p.partition))) : [];
  }

  /** Of the partitions owned, those to resume now: the ones of paused lanes down to a batch or less. */
  toResume<P extends PartitionRef>(owned: readonly P[]): P[] {
    const lanes: number[] = [];
    for (let lane = 0; lane < this.lanes; lane++) {
      if (this.paused[lane] && this.low(lane)) {
        this.paused[lane] = false;
        lanes.push(lane);
      }
    }
    return lanes.length ? owned.filter((p) => lanes.includes(this.laneOf(p.partition))) : [];
  }

  /** Newly assigned partitions that belong to a paused lane: to pause at once. */
  pausedAmong<P extends PartitionRef>(partitions: readonly P[]): P[] {
    return partitions.filter((p) => this.paused[this.laneOf(p.partition)]);
  }

  /**
   * True when a lane owning one of these partitions holds less than one batch, or when none is
   * owned yet (consuming is how the group is joined): only then does the fetch loop consume. A
   * lane with its next batch in hand needs nothing, so a deep backlog stays in librdkafka's bounded
   * prefetch rather than filling the lanes to their pause mark: fewer pauses, fewer refetches.
   */
  hungry(owned: readonly PartitionRef[]): boolean {
    if (owned.length === 0) return true;
    return owned.some((p) => this.short(this.laneOf(p.partition)));
  }
}
