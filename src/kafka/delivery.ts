// Promise-per-message producing on top of librdkafka's delivery reports. produce() only queues;
// the promise settles when the broker has acknowledged (acks=all) or librdkafka has given up.
import type { Producer, LibrdKafkaError } from './clients.js';
import type { DeliveryReport, MessageHeader } from '@confluentinc/kafka-javascript';

export interface Delivered {
  partition: number;
  offset: number;
}

export interface OutgoingMessage {
  topic: string;
  key: string | Buffer | null;
  value: Buffer;
  headers?: MessageHeader[];
  partition?: number;
}

type Waiter = { resolve: (d: Delivered) => void; reject: (e: Error) => void; sentAt: number };

export interface DeliveryObserver {
  delivered(seconds: number): void;
  failed(): void;
}

export class DeliveryTracker {
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 0;

  constructor(readonly producer: Producer, private readonly observer?: DeliveryObserver) {
    producer.on('delivery-report', (err: LibrdKafkaError, report: DeliveryReport) => this.settle(err, report));
  }

  send(message: OutgoingMessage): Promise<Delivered> {
    const id = this.nextId++ % Number.MAX_SAFE_INTEGER;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, sentAt: performance.now() });
      try {
        this.producer.produce(message.topic, message.partition ?? null, message.value, message.key, Date.now(), id, message.headers);
      } catch (err) {
        // Queue full or client not connected: nothing was queued, so the caller may retry.
        this.waiting.delete(id);
        reject(err as Error);
      }
    });
  }

  private settle(err: LibrdKafkaError | null, report: DeliveryReport): void {
    const id = report.opaque as number;
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    if (err) {
      this.observer?.failed();
      waiter.reject(new Error(`delivery failed: ${err.message}`));
    } else {
      this.observer?.delivered((performance.now() - waiter.sentAt) / 1000);
      waiter.resolve({ partition: report.partition, offset: Number(report.offset) });
    }
  }
}
