// How a lane's next batch is cut from the messages dealt to it: as many as are pending, up to the
// count and byte limits — so batches are large under load and small when idle — and never empty
// while something is pending (one message over the byte limit still makes a batch of one).
import type { Message } from '../kafka/clients.js';

/** Removes the next batch from the front of `pending` and returns it. */
export function take(pending: Message[], maxMessages: number, maxBytes: number): Message[] {
  let count = 0;
  let bytes = 0;
  while (count < pending.length && count < maxMessages) {
    bytes += pending[count]!.size;
    if (bytes > maxBytes && count > 0) break;
    count++;
  }
  return pending.splice(0, count);
}
