// Dead letters: a message that can never be applied is copied to ORDERS_DLQ_TOPIC byte for byte —
// same key, value and headers — plus headers saying why and where it came from:
//   dlq.reason            human-readable cause (e.g. "magic byte is 123, expected 0")
//   dlq.error             error class: WireFormatError, UnknownSchemaError, AvroDecodeError, InvalidField
//   dlq.source.topic      dlq.source.partition      dlq.source.offset
// Its offset is committed only after the DLQ copy is acknowledged, so nothing is lost either way.
import type { Message } from '../kafka/clients.js';
import type { DeliveryTracker } from '../kafka/delivery.js';
import type { MessageHeader } from '@confluentinc/kafka-javascript';

export interface DeadLetter {
  message: Message;
  error: string;
  reason: string;
}

export const DLQ_HEADERS = {
  reason: 'dlq.reason',
  error: 'dlq.error',
  topic: 'dlq.source.topic',
  partition: 'dlq.source.partition',
  offset: 'dlq.source.offset',
} as const;

export async function sendToDlq(delivery: DeliveryTracker, dlqTopic: string, letters: readonly DeadLetter[]): Promise<void> {
  await Promise.all(
    letters.map(({ message, error, reason }) => {
      const headers: MessageHeader[] = [
        ...(message.headers ?? []),
        { [DLQ_HEADERS.reason]: reason },
        { [DLQ_HEADERS.error]: error },
        { [DLQ_HEADERS.topic]: message.topic },
        { [DLQ_HEADERS.partition]: String(message.partition) },
        { [DLQ_HEADERS.offset]: String(message.offset) },
      ];
      return delivery.send({ topic: dlqTopic, key: message.key ?? null, value: message.value ?? Buffer.alloc(0), headers });
    }),
  );
}
