// Topics are created on start-up when missing and never recreated: an existing topic with other
// settings is reported, not "fixed", because recreating it would drop orders.
import type { IAdminClient } from './clients.js';
import { CODES, securityFailure } from './clients.js';
import type { Config } from '../config/index.js';

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  config?: Record<string, string>;
}

export type TopicOutcome = 'created' | 'exists';

/**
 * The orders topic and its dead-letter topic as configured. min.insync.replicas goes on the topics
 * themselves: with the producer's acks=all it is what makes an acknowledgement mean "on that many
 * replicas", whatever the brokers' default.
 */
export function topicSpecs(kafka: Config['kafka']): TopicSpec[] {
  const config: Record<string, string> = kafka.minInsyncReplicas === undefined ? {} : { 'min.insync.replicas': String(kafka.minInsyncReplicas) };
  return [kafka.ordersTopic, kafka.dlqTopic].map((topic) => ({ topic, partitions: kafka.partitions, replicationFactor: kafka.replicationFactor, config }));
}

export function ensureTopic(admin: IAdminClient, spec: TopicSpec, timeoutMs = 30_000): Promise<TopicOutcome> {
  return new Promise((resolve, reject) => {
    admin.createTopic(
      { topic: spec.topic, num_partitions: spec.partitions, replication_factor: spec.replicationFactor, config: spec.config ?? {} },
      timeoutMs,
      (err) => {
        if (!err) resolve('created');
        else if (err.code === CODES.ERR_TOPIC_ALREADY_EXISTS) resolve('exists');
        else {
          // A timeout that is really a refused login or certificate says so (KAFKA_SASL_*, KAFKA_SSL_CA_LOCATION).
          const refused = securityFailure(admin);
          reject(new Error(`cannot create topic ${spec.topic}: ${err.message}${refused ? ` — ${refused}` : ''}`));
        }
      },
    );
  });
}

export async function ensureTopics(admin: IAdminClient, specs: TopicSpec[], timeoutMs?: number): Promise<Record<string, TopicOutcome>> {
  const outcomes: Record<string, TopicOutcome> = {};
  for (const spec of specs) outcomes[spec.topic] = await ensureTopic(admin, spec, timeoutMs);
  return outcomes;
}

export function describePartitions(admin: IAdminClient, topic: string, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    admin.describeTopics([topic], { timeout: timeoutMs }, (err, result) => {
      if (err) return reject(err);
      const description = result[0];
      if (!description || description.error) return reject(new Error(`cannot describe topic ${topic}: ${description?.error?.message ?? 'no result'}`));
      resolve(description.partitions.length);
    });
  });
}
