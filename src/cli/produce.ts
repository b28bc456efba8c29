// order-stream produce — a load generator, the counterpart of the notes' console producer: random
// events straight into ORDERS_TOPIC, Avro-encoded with the api's schema id — orders at the
// demo catalog's prices, and optionally cancellations of this run's orders and restocks.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { createProducer, disconnect } from '../kafka/clients.js';
import { DeliveryTracker } from '../kafka/delivery.js';
import { createRegistry, registryRest } from '../serde/registry.js';
import { useContract } from '../serde/contract.js';
import { OrderSerde, valueSubject } from '../serde/order-serde.js';
import { demoProductId, demoUnitPrice } from '../db/demo-catalog.js';
import type { OrderCreated, OrderEvent } from '../domain/order.js';

const HELP = `usage: order-stream produce [--count N] [--rate N] [--users N] [--products N] [--max-qty N]
                            [--cancels PCT] [--restocks PCT]

  --count     events to produce (default 10000)
  --rate      events per second, 0 for as fast as possible (default 0)
  --users     distinct userIds user-0001 … (default 100)
  --products  distinct productIds CATALOG-0001 … (default 10), ordered at the demo catalog's prices
  --max-qty   qty is drawn from 1..max-qty (default 5)
  --cancels   percent of events that cancel an order produced earlier in this run (default 0)
  --restocks  percent of events that add 1..10×max-qty stock to a product (default 0)

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
    options: {
      count: { type: 'string' }, rate: { type: 'string' }, users: { type: 'string' }, products: { type: 'string' }, 'max-qty': { type: 'string' },
      cancels: { type: 'string' }, restocks: { type: 'string' }, help: { type: 'boolean' },
    },
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
  const cancels = positive('cancels', values.cancels, 0, 0);
  const restocks = positive('restocks', values.restocks, 0, 0);
  if (cancels + restocks > 100) throw new Error('--cancels and --restocks add up to more than 100 percent');

  const config = loadConfig();
  const serde = new OrderSerde(createRegistry(config.registry), valueSubject(config.kafka.ordersTopic));
  await useContract(serde, registryRest(config.registry), config.registry.autoRegister);
  const producer = await createProducer({ brokers: config.kafka.brokers, security: config.kafka.security, clientId: 'order-stream-produce' });
  const delivery = new DeliveryTracker(producer);

  const placed: OrderCreated[] = [];
  const byType = { OrderCreated: 0, OrderCancelled: 0, StockAdded: 0 };
  const pick = (n: number) => 1 + Math.floor(Math.random() * n);
  function nextEvent(dice: number): OrderEvent {
    const now = Date.now();
    if (dice < cancels && placed.length) {
      // Cancel an order of this run, each at most once (the processor would refuse a second).
      const order = placed.splice(Math.floor(Math.random() * placed.length), 1)[0]!;
      return { type: 'OrderCancelled', event: { cancellationId: randomUUID(), orderId: order.orderId, userId: order.userId, productId: order.productId, cancelledAt: now } };
    }
    const product = pick(products);
    if (dice >= 100 - restocks) return { type: 'StockAdded', event: { restockId: randomUUID(), productId: demoProductId(product), add: pick(10 * maxQty), addedAt: now } };
    const qty = pick(maxQty);
    const unitPrice = demoUnitPrice(product);
    const order: OrderCreated = { orderId: randomUUID(), userId: `user-${pad(pick(users))}`, productId: demoProductId(product), qty, unitPrice, totalPrice: qty * unitPrice, createdAt: now };
    // A bounded pool of cancellable orders keeps memory flat for any --count.
    if (cancels && placed.length < 100_000) placed.push(order);
    return { type: 'OrderCreated', event: order };
  }

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
    const e = nextEvent(Math.random() * 100);
    const counted = e.type;
    window.push(
      delivery.send({ topic: config.kafka.ordersTopic, key: e.event.productId, value: serde.encode(e) }).then(
        () => {
          acked++;
          byType[counted]++;
        },
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
  console.log(JSON.stringify({ topic: config.kafka.ordersTopic, produced: acked, ...byType, failed, seconds: Number(seconds.toFixed(3)), perSecond: Math.round(acked / seconds), ...(firstError ? { firstError } : {}) }));
  return failed === 0 ? 0 : 1;
}
