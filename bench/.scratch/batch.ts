// consume(n) batch size vs CPU per message, native client, no decode
import '../stack.js';
import { createConsumer, processorConsumerSettings, type Message } from '../../src/kafka/clients.js';
const topic = process.argv[2]!; const n = Number(process.argv[3]); const total = Number(process.argv[4]); const onlyFirst = process.argv[5] === 'first';
const consumer = await createConsumer({ brokers: process.env.KAFKA_BROKERS!, groupId: `batchtest-${Date.now()}-${n}` }, processorConsumerSettings(4194304));
consumer.setDefaultConsumeTimeout(20);
if (onlyFirst) (consumer as any).setDefaultIsTimeoutOnlyForFirstMessage(true);
consumer.subscribe([topic]);
let seen = 0, calls = 0, cpu = process.cpuUsage(), t = 0;
while (seen < total) {
  const m = await new Promise<Message[]>((res, rej) => consumer.consume(n, (e, ms) => (e ? rej(e) : res(ms))));
  if (m.length && !t) { t = performance.now(); cpu = process.cpuUsage(); }
  if (t) calls++;
  seen += m.length;
}
const c = process.cpuUsage(cpu);
console.log(JSON.stringify({ n, onlyFirst, calls, perCall: Math.round(seen / calls), usPerMsg: +(((c.user + c.system)) / seen).toFixed(2), perSec: Math.round(seen / ((performance.now() - t) / 1000)) }));
process.exit(0);
