// How a lane's next batch is cut from what was dealt to it: as many items as are pending, up to
// the count and byte limits — so batches are large under load and small when idle — and never
// empty while something is pending (one message over the byte limit still makes a batch of one).
// `sizes` holds each pending item's message size, index for index.

/** Removes the next batch from the front of `pending` (and their sizes) and returns it. */
export function take<T>(pending: T[], sizes: number[], maxMessages: number, maxBytes: number): { items: T[]; bytes: number } {
  let count = 0;
  let bytes = 0;
  while (count < pending.length && count < maxMessages) {
    const next = bytes + sizes[count]!;
    if (next > maxBytes && count > 0) break;
    bytes = next;
    count++;
  }
  sizes.splice(0, count);
  return { items: pending.splice(0, count), bytes };
}
