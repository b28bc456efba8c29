// Applied orders out as events: deploy/connect/orders-cdc-source.json (Debezium PostgreSQL,
// pgoutput) publishes the processor's writes to orders, catalog and stock_additions. Under a
// processor SIGKILL (and a Connect worker SIGKILL) every decision appears on the change topic, none twice in effect (after the
// consumer de-duplication the README documents), and a product's stock changes replay in commit
// order against its decisions. Needs PostgreSQL with wal_level=logical (scripts/stack/postgres).
import { expect } from 'chai';
import { eventually, makeOrder, orderMessage, produceAll, putProducts, stockOf, testBed, type TestBed } from '../support/fixtures.js';
import { envFor, spawnRole, type Child } from '../support/child.js';
import { createConsumer, disconnect, type KafkaConsumer, type Message } from '../../src/kafka/clients.js';
import { awaitRunning, deleteConnector, deployedConnector, killWorker, putConnector, startWorker } from '../support/connect.js';
import { changeKey, readChange, type Change } from '../support/cdc.js';

describe('Kafka Connect CDC source (deploy/connect/orders-cdc-source.json)', function () {
  let bed: TestBed;
  let child: Child | undefined;
  let reader: KafkaConsumer | undefined;
  let name: string;
  let slot: string;
  let prefix: string;

  before(async () => {
    bed = await testBed(6);
    const level = (await bed.pool.query('SHOW wal_level')).rows[0].wal_level;
    if (level !== 'logical') throw new Error(`PostgreSQL runs with wal_level=${level}; the CDC source needs logical: restart the stack (npm run stack:down && npm run stack:up)`);
    name = `${bed.tag}-cdc`;
    prefix = `${bed.tag}.cdc`;
    slot = `s_${bed.tag.replace(/-/g, '_')}`;
  });
  after(async () => {
    child?.process.kill('SIGKILL');
    if (reader) await disconnect(reader);
    if (name) await deleteConnector(name).catch(() => undefined);
    // A slot left behind keeps PostgreSQL's WAL forever: drop it once the connector let go of it.
    if (slot) {
      await eventually('slot released', async () => (await bed.pool.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot])).rows[0]?.active ?? false, (a) => !a, 60_000, 250).catch(() => undefined);
      await bed.pool.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]).catch(() => undefined);
      await bed.pool.query(`DROP PUBLICATION IF EXISTS ${slot}`).catch(() => undefined);
    }
    await bed?.close();
  });

  it('publishes every decision once in effect, in commit order per product, under a processor and a worker SIGKILL', async () => {
    const products = ['S1', 'S2', 'P1', 'P2', 'P3', 'P4'].map((p) => `${bed.tag}-${p}`);
    const initial: Record<string, number> = Object.fromEntries(products.map((p) => [p, p.endsWith('S1') || p.endsWith('S2') ? 2_000 : 10_000_000]));
    await putProducts(bed.pool, initial);

    // Only changes from now on (a snapshot would also publish every other test's rows).
    const { config } = deployedConnector('orders-cdc-source.json', {
      'topic.prefix': prefix,
      'slot.name': slot,
      'publication.name': slot,
      'snapshot.mode': 'no_data',
      'topic.creation.default.replication.factor': String(bed.config.kafka.replicationFactor),
    });
    await putConnector(name, config);
    await awaitRunning(name);
    await eventually('replication slot streaming', async () => (await bed.pool.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot])).rows[0]?.active ?? false, (a) => a === true, 60_000, 250);

    // Orders keyed by product (the product's partition), and after them cancellations of every
    // 25th: behind their order in the same partition, some in the same batch, some later.
    const orders = Array.from({ length: 20_000 }, (_, i) => makeOrder(bed, products[i % products.length]!, 1 + (i % 3)));
    const cancels = orders.filter((_, i) => i % 25 === 0);
    await produceAll(bed, orders.map((o) => orderMessage(bed, o)));
    await produceAll(bed, cancels.map((o) => ({
      topic: bed.config.kafka.ordersTopic,
      key: o.productId,
      value: bed.serde.encode({ type: 'OrderCancelled', event: { cancellationId: crypto.randomUUID(), orderId: o.orderId, userId: o.userId, productId: o.productId, cancelledAt: Date.now() } }),
    })));

    const env = envFor(bed.config, { PROCESSOR_BATCH_MAX_MESSAGES: '500' });
    const applied = async () => Number((await bed.pool.query('SELECT count(*) FROM orders WHERE user_id LIKE $1', [`${bed.tag}%`])).rows[0].count);
    child = spawnRole('processor', env, `${bed.tag}-cdc-1`);
    await child.started;
    await eventually('some orders applied', applied, (n) => n >= 2_000);
    child.process.kill('SIGKILL');
    await child.exited;
    expect(await applied(), 'killed mid-stream').to.be.below(orders.length);
    child = spawnRole('processor', env, `${bed.tag}-cdc-2`);
    await child.started;
    // The worker too dies (SIGKILL) while changes stream: restarted, Debezium resumes from the last
    // position it flushed (every second), so changes after it are published again — the replay a
    // consumer de-duplicates.
    const atRestart = await applied();
    await eventually('more orders applied', applied, (n) => n >= Math.min(orders.length, atRestart + 3_000));
    await killWorker();
    await startWorker();
    await awaitRunning(name);
    await eventually('every order applied', applied, (n) => n === orders.length, 120_000);
    // Every cancellation applied: each of an order that was not REJECTED made it CANCELLED.
    const cancelTargets = cancels.map((o) => o.orderId);
    const cancelState = async () => (await bed.pool.query<{ cancelled: string; rejected: string }>(
      `SELECT count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled, count(*) FILTER (WHERE status = 'REJECTED') AS rejected FROM orders WHERE order_id = ANY($1::uuid[])`, [cancelTargets])).rows[0]!;
    await eventually('every cancellation applied', cancelState, (s) => Number(s.cancelled) + Number(s.rejected) === cancels.length, 60_000);
    child.process.kill('SIGTERM');
    expect(await child.exited).to.equal(0);
    child = undefined;

    const stored = new Map((await bed.pool.query<{ order_id: string; status: string; product_id: string }>('SELECT order_id::text, status, product_id FROM orders WHERE user_id LIKE $1', [`${bed.tag}%`])).rows.map((r) => [r.order_id, r]));
    const finalStock = await stockOf(bed.pool, products);

    // Read the change topics until every stored decision (and each product's last stock) is there.
    reader = await createConsumer({ brokers: bed.config.kafka.brokers, groupId: `${bed.tag}-cdc-reader` });
    const topics = { orders: `${prefix}.public.orders`, catalog: `${prefix}.public.catalog` };
    reader.assign(Object.values(topics).flatMap((topic) => Array.from({ length: 6 }, (_, partition) => ({ topic, partition, offset: 0 }))));
    const changes: { orders: Change[]; catalog: Change[] } = { orders: [], catalog: [] };
    const decisions = new Map<string, Change[]>(); // (order_id, status) → its events
    const mine = (c: Change) => products.includes(String(c.after?.product_id));
    const covered = () => {
      let missing = 0;
      for (const order of stored.values()) if (!decisions.has(`${order.order_id}/${order.status}`)) missing++;
      const lastStock = products.filter((p) => changes.catalog.filter((c) => c.after?.product_id === p).at(-1)?.after?.stock !== finalStock[p]).length;
      return { missing, lastStock };
    };
    await eventually('every decision on the change topic', async () => {
      const batch = await new Promise<Message[]>((resolve, reject) => reader!.consume(5000, (err, messages) => (err ? reject(err) : resolve(messages))));
      for (const message of batch) {
        const change = readChange(message);
        if (!change || !mine(change)) continue;
        if (message.topic === topics.orders) {
          changes.orders.push(change);
          const key = `${change.after!.order_id}/${change.after!.status}`;
          decisions.set(key, [...(decisions.get(key) ?? []), change]);
        } else changes.catalog.push(change);
      }
      return covered();
    }, (c) => c.missing === 0 && c.lastStock === 0, 120_000, 0);

    // Each order: exactly the statuses its history allows, each once in effect. The same change
    // twice (same transaction, same LSN) is a CDC replay a consumer drops; two different changes
    // to the same (order, status) would be a decision applied twice.
    for (const [orderId, order] of stored) {
      const statuses = ['ACCEPTED', 'REJECTED', 'CANCELLED'].filter((s) => decisions.has(`${orderId}/${s}`));
      const allowed = order.status === 'CANCELLED' ? [['ACCEPTED', 'CANCELLED'], ['CANCELLED']] : [[order.status]];
      expect(allowed, `statuses published for ${orderId}`).to.deep.include(statuses);
      for (const status of statuses) {
        const events = decisions.get(`${orderId}/${status}`)!;
        expect(new Set(events.map(changeKey)).size, `distinct changes for ${orderId} ${status}`).to.equal(1);
      }
    }
    const replayed = [...decisions.values()].reduce((n, events) => n + events.length - new Set(events.map(changeKey)).size, 0);
    console.log(`      (${changes.orders.length} order changes read, ${replayed} of them replays of a change already read)`);
    const published = [...decisions.keys()].filter((k) => stored.has(k.split('/')[0]!));
    expect(published.length, 'decisions of no stored order').to.equal(decisions.size);

    // Commit order per product: replaying the product's decisions (order inserts and
    // cancellations) in commit order gives exactly the stock of each of its catalog changes.
    for (const product of products) {
      const txOrder = (c: Change) => c.commitLsn;
      // A consumer's view: each change once, at its first delivery (a replay repeats changes
      // already read, then goes on where it had stopped).
      const firstDeliveries = (list: Change[]) => {
        const seen = new Set<string>();
        return list.filter((c) => !seen.has(changeKey(c)) && seen.add(changeKey(c)));
      };
      const events = firstDeliveries(changes.orders.filter((c) => c.after!.product_id === product));
      const stockChanges = firstDeliveries(changes.catalog.filter((c) => c.after!.product_id === product));
      // In topic order (the product's partition), commit positions never go back.
      for (const list of [events, stockChanges]) for (let i = 1; i < list.length; i++) expect(txOrder(list[i]!) >= txOrder(list[i - 1]!), `${product} commit order`).to.equal(true);
      const effect = (c: Change) => {
        const qty = Number(c.after!.qty);
        if (c.op === 'c' && c.after!.status === 'ACCEPTED') return -qty;
        if (c.op === 'u' && c.after!.status === 'CANCELLED' && c.before?.status !== 'CANCELLED') return qty;
        return 0; // REJECTED, or inserted CANCELLED (accepted and cancelled in one batch)
      };
      let stock = initial[product]!;
      let next = 0;
      for (const change of stockChanges) {
        while (next < events.length && txOrder(events[next]!) <= txOrder(change)) stock += effect(events[next++]!);
        expect(Number(change.after!.stock), `${product} stock at commit ${change.commitLsn}`).to.equal(stock);
      }
      expect(Number(stockChanges.at(-1)!.after!.stock)).to.equal(finalStock[product]);
    }
  });
});
