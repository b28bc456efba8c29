// The Kubernetes manifests run: `kubectl kustomize deploy/k8s/overlays/local` played with
// `podman kube play` against the real local stack. The test points the overlay at the stack of
// .stack/env (ConfigMap KAFKA_BROKERS, Secret DATABASE_URL / SCHEMA_REGISTRY_URL), at topics and a
// group of its own, and at free ports; everything else is played as rendered.
//
// Before playing, the deploy step `order-stream migrate` runs from the image (see below).
// podman kube play runs Pods from the Deployments (one pod each), with their ConfigMap and Secret,
// securityContext and hostNetwork (its containerPorts aside, see below). It turns an httpGet liveness probe into a curl healthcheck
// (the image has no curl) that only a systemd timer would run: the probes are exercised here by
// requesting each probe's path on its port, as the kubelet does. It cannot express Service,
// HorizontalPodAutoscaler, PodDisruptionBudget nor NetworkPolicy (nor the ServiceMonitor CRD of the example
// overlay): those are removed before playing and checked statically below against the played pods
// (test/unit/manifests.test.ts validates all of them against their schemas).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { unique } from '../support/env.js';
import { eventually } from '../support/fixtures.js';
import { httpStatus, IMAGE, inspect, podman, PORT_BASE, processStatus, request } from './podman.js';

type Obj = Record<string, any>; // rendered YAML, navigated freely

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NOT_PLAYABLE = ['Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy'];
/** Host ports of each Deployment's named container ports: http (the API), management (probes, metrics). */
const PORTS: Record<string, Record<string, number>> = {
  'order-stream-api': { http: PORT_BASE + 10, management: PORT_BASE + 12 },
  'order-stream-processor': { management: PORT_BASE + 11 },
};
const SETTING_OF_PORT: Record<string, string> = { http: 'PORT', management: 'MANAGEMENT_PORT' };

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through npm test, or source .stack/env`);
  return value;
}

const selects = (selector: Obj, labels: Obj) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('Kubernetes manifests played with podman kube play (overlays/local)', function () {
  this.timeout(300_000);
  const tag = unique('kube');
  let dir = '';
  let file = '';
  let rendered: Obj[] = [];
  let deployments: Obj[] = [];
  let secret: Obj | undefined;
  /** Container name of each Deployment's container, as podman named it. */
  const containerOf: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'order-stream-kube-'));
    file = join(dir, 'order-stream.yaml');
    rendered = parseAllDocuments(execFileSync('kubectl', ['kustomize', join(ROOT, 'deploy/k8s/overlays/local')], { encoding: 'utf8' })).map((d) => d.toJS() as Obj);
    deployments = rendered.filter((d) => d.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name)).to.have.members(Object.keys(PORTS));

    for (const doc of rendered) {
      if (doc.kind === 'ConfigMap' && doc.metadata.name.startsWith('order-stream-config')) {
        Object.assign(doc.data, {
          KAFKA_BROKERS: requiredEnv('KAFKA_BROKERS'),
          ORDERS_TOPIC: `${tag}-orders`,
          ORDERS_DLQ_TOPIC: `${tag}-orders.dlq`,
          PROCESSOR_GROUP_ID: `${tag}-group`,
        });
      }
      if (doc.kind === 'Secret') {
        delete doc.stringData;
        doc.data = Object.fromEntries(['DATABASE_URL', 'SCHEMA_REGISTRY_URL'].map((k) => [k, Buffer.from(requiredEnv(k)).toString('base64')]));
        secret = doc;
      }
    }
    expect(secret, 'the overlay generates the Secret').to.not.equal(undefined);
    for (const d of deployments) {
      const ports = PORTS[d.metadata.name]!;
      const [container] = d.spec.template.spec.containers as Obj[];
      expect(container!.image, 'the image npm run image builds').to.equal(IMAGE);
      expect((container!.ports as Obj[]).map((p) => p.name)).to.have.members(Object.keys(ports));
      for (const p of container!.ports as Obj[]) p.containerPort = ports[p.name as string];
      for (const [name, port] of Object.entries(ports)) {
        const e = (container!.env as Obj[]).find((x) => x.name === SETTING_OF_PORT[name]);
        expect(e, `${d.metadata.name} sets ${SETTING_OF_PORT[name]}`).to.not.equal(undefined);
        e!.value = String(port);
      }
    }
    // podman 4.3 stores a played Secret as YAML but reads it back as JSON of base64 values (fixed
    // in later podman), so the Secret is created the way it reads it, then the rest is played.
    const secretFile = join(dir, 'secret.json');
    writeFileSync(secretFile, JSON.stringify(secret!.data));
    await podman('secret', 'rm', secret!.metadata.name).catch(() => '');
    await podman('secret', 'create', secret!.metadata.name, secretFile);
    const playable = structuredClone(rendered.filter((d) => !NOT_PLAYABLE.includes(d.kind) && d.kind !== 'Secret'));
    // podman 4.3 publishes every containerPort as a host port, which host networking refuses: the
    // played copy names the probes' ports by number and leaves the declarations out (the rendered
    // ones are what the probe test below resolves).
    for (const d of playable.filter((x) => x.kind === 'Deployment')) {
      for (const c of d.spec.template.spec.containers as Obj[]) {
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          const get = c[probe]?.httpGet as Obj | undefined;
          if (get) get.port = (c.ports as Obj[]).find((p) => p.name === get.port)?.containerPort ?? get.port;
        }
        delete c.ports;
      }
    }
    // YAML 1.1, as podman reads it: strings such as "off" stay quoted.
    writeFileSync(file, playable.map((d) => stringify(d, { version: '1.1' })).join('---\n'));

    // The deploy step first (database migrations, the order schema registered: the roles of a
    // production image do not register it, SCHEMA_AUTO_REGISTER being false), from the same image
    // with the pods' ConfigMap and Secret, as a Job or a pipeline step would run it in a cluster.
    const config = rendered.find((d) => d.kind === 'ConfigMap' && d.metadata.name.startsWith('order-stream-config'))!.data as Record<string, string>;
    const secrets = Object.fromEntries(Object.entries(secret!.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    await podman(
      'run', '--rm', '--network', 'host', '--read-only', '--read-only-tmpfs=false', '--user', '10001:10001',
      ...Object.entries({ ...config, ...secrets }).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      IMAGE, 'migrate',
    );
    await podman('kube', 'play', '--replace', file);
    for (const d of deployments) {
      // podman names a Deployment's pod <name>-pod-0 and its containers <pod>-<container>.
      const name = `${d.metadata.name}-pod-0-${d.spec.template.spec.containers[0].name as string}`;
      expect((await inspect(name)).State.Running, `${name} running`).to.equal(true);
      containerOf[d.metadata.name] = name;
    }
  });

  after(async () => {
    if (process.env.KUBE_PLAY_KEEP === '1') return console.log(`kept for inspection: podman kube down ${file}`); // debugging a failure
    if (file) await podman('kube', 'down', file).catch(() => '');
    if (secret) await podman('secret', 'rm', secret.metadata.name).catch(() => '');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers every probe of each pod on its path and port', async () => {
    for (const d of deployments) {
      const [container] = d.spec.template.spec.containers as Obj[];
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const get = container![probe]?.httpGet as Obj | undefined;
        expect(get, `${d.metadata.name} ${probe}`).to.not.equal(undefined);
        const port = (container!.ports as Obj[]).find((p) => p.name === get!.port || p.containerPort === get!.port)?.containerPort as number;
        expect(port, `${d.metadata.name} ${probe} port ${get!.port}`).to.equal(PORTS[d.metadata.name]!.management);
        await eventually(`${d.metadata.name} ${probe} ${get!.path}`, () => httpStatus(port, get!.path), (s) => s === 200, 120_000);
      }
    }
  });

  it('enforces the securityContext in the running pods: uid 10001, read-only root, no capabilities, no privilege escalation', async () => {
    for (const d of deployments) {
      const name = containerOf[d.metadata.name]!;
      const info = await inspect(name);
      expect(info.ImageName, name).to.equal(IMAGE);
      expect(info.HostConfig.ReadonlyRootfs, `${name} read-only root`).to.equal(true);
      expect(info.EffectiveCaps ?? [], `${name} capabilities`).to.deep.equal([]);
      const status = await processStatus(name);
      expect(status.Uid?.split(/\s+/), `${name} uids`).to.deep.equal(['10001', '10001', '10001', '10001']);
      expect(status.Gid?.split(/\s+/), `${name} gids`).to.deep.equal(['10001', '10001', '10001', '10001']);
      for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(status[set], `${name} ${set}`).to.match(/^0+$/);
      expect(status.NoNewPrivs, `${name} allowPrivilegeEscalation: false`).to.equal('1');
      expect(status.Seccomp, `${name} seccomp filter (RuntimeDefault)`).to.equal('2');
      const write = await podman('exec', name, 'sh', '-c', 'touch /app/x 2>&1 || true');
      expect(write, `${name} root filesystem`).to.match(/Read-only file system|Permission denied/);
    }
  });

  it('serves orders through the played api and applies them in the played processor', async () => {
    const port = PORTS['order-stream-api']!.http!;
    const product = `${tag}-P`;
    expect((await request(port, 'PUT', `/catalog-service/catalogs/${product}`, { productName: 'kube play', unitPrice: 500, stock: 5 })).status).to.be.oneOf([200, 201]);
    const order = await request(port, 'POST', `/order-service/${tag}-u/orders`, { productId: product, qty: 2, unitPrice: 500 }, { prefer: 'wait=30' });
    expect(order.status, JSON.stringify(order.body)).to.equal(201);
    expect(order.body.status).to.equal('ACCEPTED');
  });

  it('checks statically what podman cannot play: Services, the HPA and the PDBs select the played pods', () => {
    const podLabels = deployments.map((d) => d.spec.template.metadata.labels as Obj);
    const notPlayed = rendered.filter((d) => NOT_PLAYABLE.includes(d.kind));
    expect(notPlayed.map((d) => d.kind)).to.include.members(NOT_PLAYABLE);
    for (const doc of notPlayed) {
      if (doc.kind === 'Service') {
        const target = deployments.find((d) => selects(doc.spec.selector, d.spec.template.metadata.labels));
        expect(target, `pods of Service ${doc.metadata.name}`).to.not.equal(undefined);
        const names = (target!.spec.template.spec.containers[0].ports as Obj[]).map((p) => p.name);
        for (const p of doc.spec.ports as Obj[]) expect(names, `Service ${doc.metadata.name} targetPort`).to.include(p.targetPort);
      } else if (doc.kind === 'NetworkPolicy') {
        const target = deployments.find((d) => selects(doc.spec.podSelector.matchLabels, d.spec.template.metadata.labels));
        expect(target, `pods of NetworkPolicy ${doc.metadata.name}`).to.not.equal(undefined);
        const names = (target!.spec.template.spec.containers[0].ports as Obj[]).map((p) => p.name);
        for (const rule of doc.spec.ingress as Obj[]) for (const p of rule.ports as Obj[]) expect(names, `NetworkPolicy ${doc.metadata.name} port`).to.include(p.port);
      } else if (doc.kind === 'HorizontalPodAutoscaler') {
        expect(deployments.map((d) => d.metadata.name)).to.include(doc.spec.scaleTargetRef.name);
      } else {
        expect(podLabels.some((l) => selects(doc.spec.selector.matchLabels, l)), `PDB ${doc.metadata.name}`).to.equal(true);
      }
    }
  });

  it('stops the pods with SIGTERM: every container exits 0 within its terminationGracePeriodSeconds', async () => {
    for (const d of deployments) {
      const graceSeconds = Number(d.spec.template.spec.terminationGracePeriodSeconds);
      const started = Date.now();
      await podman('pod', 'stop', '--time', String(graceSeconds), `${d.metadata.name}-pod-0`);
      const name = containerOf[d.metadata.name]!;
      expect((await inspect(name)).State.ExitCode, name).to.equal(0);
      expect(Date.now() - started, name).to.be.below(graceSeconds * 1000);
    }
  });
});
