import avro from 'avsc';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { frame, payloadOf } from '/work/wt-perf/src/serde/wire.ts';
const schema = JSON.parse(readFileSync('/work/wt-perf/schemas/order-events.avsc', 'utf8'));
const t = avro.Type.forSchema(schema, { wrapUnions: 'auto' }) as any;
const resolver = t.createResolver(t);
const N = 200000;
const msgs: Buffer[] = [];
for (let i = 0; i < N; i++) msgs.push(frame(7, t.toBuffer({ 'orderstream.orders.OrderCreated': { orderId: randomUUID(), userId: 'bench-xyz-u' + i % 5000, productId: 'bench-xyz-P00' + (i % 1000), qty: 3, unitPrice: 100, totalPrice: 300, createdAt: Date.now() } })));
const branches = t.types;
function a() { let x = 0; for (const m of msgs) { const w = t.fromBuffer(payloadOf(m), resolver, true); for (const k in w) { const e = { type: k.slice(19), event: w[k] }; x += e.event.qty; } } return x; }
function b() { let x = 0; for (const m of msgs) { const idx = m[5] >> 1; const r = branches[idx].decode(m, 6); x += r.value.qty; } return x; }
function c() { let x = 0; for (const m of msgs) { const idx = m[5] >> 1; const v = branches[idx].fromBuffer(m.subarray(6), undefined, true); x += v.qty; } return x; }
function d() { let x = 0; for (const m of msgs) { const v = t.fromBuffer(payloadOf(m), undefined, true); for (const k in v) x += v[k].qty; } return x; }
for (const [name, f] of [['current', a], ['branch.decode', b], ['branch.fromBuffer(subarray)', c], ['no resolver', d], ['current', a], ['branch.decode', b], ['branch.fromBuffer(subarray)', c], ['no resolver', d]] as const) {
  const s = process.cpuUsage(); f(); const u = process.cpuUsage(s); console.log(name, ((u.user + u.system) / N).toFixed(3), 'µs/msg');
}
