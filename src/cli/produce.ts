// order-stream produce — a load generator, the counterpart of the notes' console producer: random
// orders straight into ORDERS_TOPIC, Avro-encoded and registered like the api's.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { createProducer, disconnect } from '../kafka/clients.js';
import { DeliveryTracker } from '../kafka/delivery.js';
import { createRegistry } from '../serde/registry.js';
import { OrderSerde, valueSubject } from '../serde/order-serde.js';
import type { OrderCreated } from '../domain/order.js';

const HELP = `usage: order-stream produce [--count N] [--rate N] [--users N] [--products N] [--max-qty N]

  --count     orders to produce (default 10000)
  --rate      orders per second, 0 for as fast as possible (default 0)
  --users     distinct userIds user-0001 … (default 100)
  --products  distinct productIds CATALOG-0001 … (default 10)
  --max-qty   qty is drawn from 1..max-qty (default 5)

Kafka and the registry come from KAFKA_BROKERS and SCHEMA_REGISTRY_URL.`;

function positive(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min} (got ${value})`);
  return n;
}

const pad = (n: number) => String(n).padStart(4, '0');

function progress(done: number, total: number, startedAt: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const rate = done / Math.max(0.001, (Date.now() - startedAt) / 1000);
  return `\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${((done / total) * 100).toFixed(0).padStart(3)}% ${done}/${total} ${rate.toFixed(0)}/s `;
}

export async function runProduce(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { count: { type: 'string' }, rate: { type: 'string' }, users: { type: 'string' }, products: { type: 'string' }, 'max-qty': { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const count = positive('count', values.count, 10_000);
  const rate = positive('rate', values.rate, 0, 0);
  const users = positive('users', values.users, 100);
  const products = positive('products', values.products, 10);
  const maxQty = positive('max-qty', values['max-qty'], 5);

  const config = loadConfig();
  const serde = new OrderSerde(createRegistry(config.registry.url), valueSubject(config.kafka.ordersTopic));
  await serde.register();
  const producer = await createProducer({ brokers: config.kafka.brokers, security: config.kafka.security, clientId: 'order-stream-produce' });
  const delivery = new DeliveryTracker(producer);

  const startedAt = Date.now();
  const tty = process.stderr.isTTY;
  let acked = 0;
  let failed = 0;
  let firstError: string | undefined;
  const window: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    if (rate > 0) {
      const due = startedAt + (i * 1000) / rate;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    }
    const qty = 1 + Math.floor(Math.random() * maxQty);
    const unitPrice = 100 * (1 + Math.floor(Math.random() * 20));
    const order: OrderCreated = {
      orderId: randomUUID(),
      userId: `user-${pad(1 + Math.floor(Math.random() * users))}`,
      productId: `CATALOG-${pad(1 + Math.floor(Math.random() * products))}`,
      qty,
      unitPrice,
      totalPrice: qty * unitPrice,
      createdAt: Date.now(),
    };
    window.push(
      delivery.send({ topic: config.kafka.ordersTopic, key: order.productId, value: serde.encode(order) }).then(
        () => void acked++,
        (err: Error) => {
          failed++;
          firstError ??= err.message;
        },
      ),
    );
    // Bounded in flight, so memory stays flat for any --count.
    if (window.length >= 10_000) await Promise.all(window.splice(0));
    if (tty && i % 1000 === 0) process.stderr.write(progress(acked, count, startedAt));
  }
  await Promise.all(window);
  await disconnect(producer);
  const seconds = (Date.now() - startedAt) / 1000;
  if (tty) process.stderr.write(progress(acked, count, startedAt) + '\n');
  console.log(JSON.stringify({ topic: config.kafka.ordersTopic, produced: acked, failed, seconds: Number(seconds.toFixed(3)), perSecond: Math.round(acked / seconds), ...(firstError ? { firstError } : {}) }));
  return failed === 0 ? 0 : 1;
}
