// Static checks of deploy/: the Dockerfile, the kustomize base/overlay/component, the compose file,
// the Prometheus config and the Kafka Connect example — against the configuration contract
// (src/config/settings.ts) and the routes every role serves. No cluster and no Docker needed.
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { SETTINGS } from '../../src/config/settings.js';

type Obj = Record<string, unknown>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const K8S = join(DEPLOY, 'k8s');
const BASE = join(K8S, 'base');
const OVERLAY = join(K8S, 'overlays', 'example');
const ROLES = ['api', 'processor', 'all'];
// Besides the app's settings: the runtime's own (Node.js and V8's flags; glibc's allocator).
const ALLOWED_ENV = new Set<string>([...SETTINGS.map((s) => s.name), 'NODE_ENV', 'NODE_OPTIONS', 'MALLOC_MMAP_THRESHOLD_']);
const SECRET_SETTINGS: string[] = SETTINGS.filter((s) => 'secret' in s && s.secret).map((s) => s.name);
const REQUIRED_SETTINGS: string[] = SETTINGS.filter((s) => !('default' in s)).map((s) => s.name);

// ---------------------------------------------------------------------------------------------
// small helpers
// ---------------------------------------------------------------------------------------------

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `path` below `root` (asserted), e.g. at(dep, 'spec', 'template', 'spec'). */
function at(root: unknown, ...path: string[]): Obj {
  let node = root;
  for (const key of path) node = isObj(node) ? node[key] : undefined;
  expect(isObj(node), `object at ${path.join('.')}`).to.equal(true);
  return node as Obj;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function objs(value: unknown): Obj[] {
  return list(value).filter(isObj);
}

function settingDefault(name: string): string | number {
  const setting = SETTINGS.find((s) => s.name === name);
  expect(setting && 'default' in setting, `${name} has a default in SETTINGS`).to.equal(true);
  return (setting as { default: string | number }).default;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const rel = (path: string) => relative(ROOT, path);

/** Every document of a YAML file as plain JS (merge keys on, as Docker Compose reads them). */
function yamlDocs(text: string, where: string): unknown[] {
  const docs = parseAllDocuments(text, { merge: true });
  return docs.map((doc, i) => {
    expect(doc.errors.map((e) => e.message), `${where} document ${i + 1}`).to.deep.equal([]);
    return doc.toJS() as unknown;
  });
}

const yamlFiles = filesUnder(DEPLOY).filter((f) => /\.ya?ml$/.test(f));
const docsOf = (file: string) => yamlDocs(readFileSync(file, 'utf8'), rel(file));
const firstDoc = (file: string) => at(docsOf(file)[0]);

// ---------------------------------------------------------------------------------------------
// Kubernetes
// ---------------------------------------------------------------------------------------------

interface Manifest {
  file: string;
  doc: Obj;
}

/** Kubernetes objects under deploy/k8s (kustomize's own files excluded); read when first needed. */
function manifests(): Manifest[] {
  return yamlFiles
    .filter((f) => f.startsWith(K8S))
    .flatMap((file) => docsOf(file).filter(isObj).map((doc) => ({ file, doc })))
    .filter(({ doc }) => typeof doc.kind === 'string' && !String(doc.apiVersion).startsWith('kustomize.config.k8s.io'));
}

const ofKind = (kind: string) => manifests().filter((m) => m.doc.kind === kind);
const nameOf = (m: Manifest) => String(at(m.doc, 'metadata').name);
const deployments = () => ofKind('Deployment');

function deployment(role: 'api' | 'processor'): Manifest {
  const found = deployments().find((d) => nameOf(d) === `order-stream-${role}`);
  expect(found, `Deployment order-stream-${role}`).to.not.equal(undefined);
  return found as Manifest;
}

const podSpec = (d: Manifest) => at(d.doc, 'spec', 'template', 'spec');
const podLabels = (d: Manifest) => at(d.doc, 'spec', 'template', 'metadata', 'labels');
const containersOf = (d: Manifest) => objs(podSpec(d).containers);

function containerPorts(d: Manifest): Obj[] {
  return containersOf(d).flatMap((c) => objs(c.ports));
}

/** A probe's or Service's port (name or number) refers to a declared containerPort. */
function portDeclared(port: unknown, ports: Obj[]): boolean {
  return ports.some((p) => p.name === port || p.containerPort === port);
}

function selects(selector: Obj, labels: Obj): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

function kustomization(dir: string): Obj {
  return firstDoc(join(dir, 'kustomization.yaml'));
}

/** Absolute paths of the files a kustomization lists as resources. */
function listedResources(dir: string): string[] {
  return list(kustomization(dir).resources).map((entry) => join(dir, String(entry)));
}

/** KEY=VALUE literals of a kustomization's configMapGenerator for order-stream-config. */
function generatorLiterals(dir: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const generator of objs(kustomization(dir).configMapGenerator)) {
    if (generator.name !== 'order-stream-config') continue;
    for (const literal of list(generator.literals)) {
      const [key = '', ...rest] = String(literal).split('=');
      values.set(key, rest.join('='));
    }
  }
  return values;
}

/** The settings the pods get from order-stream-config: generated and plain ConfigMaps. */
function baseConfig(): Map<string, string> {
  const values = generatorLiterals(BASE);
  for (const cm of ofKind('ConfigMap').filter((m) => m.file.startsWith(BASE))) {
    for (const [key, value] of Object.entries(at(cm.doc, 'data'))) values.set(key, String(value));
  }
  return values;
}

function overlayConfig(): Map<string, string> {
  return new Map([...baseConfig(), ...generatorLiterals(OVERLAY)]);
}

/** Names of every `env` entry anywhere below a node (containers, patches). */
function envNames(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(envNames);
  if (!isObj(node)) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'env' ? objs(value).map((e) => String(e.name)) : envNames(value),
  );
}

/** Documents of the overlay's inline patches. */
function overlayPatches(): unknown[] {
  return objs(kustomization(OVERLAY).patches)
    .filter((p) => typeof p.patch === 'string')
    .flatMap((p) => yamlDocs(String(p.patch), 'overlay patch'));
}

function preStopSleepMs(container: Obj): number {
  const command = list(isObj(container.lifecycle) ? at(container.lifecycle, 'preStop', 'exec').command : undefined);
  const sleep = /\bsleep\s+(\d+)/.exec(command.join(' '));
  return sleep ? Number(sleep[1]) * 1000 : 0;
}

function configuredMs(config: Map<string, string | number>, name: string): number {
  return Number(config.get(name) ?? settingDefault(name));
}

// ---------------------------------------------------------------------------------------------
// Docker: Dockerfile and compose
// ---------------------------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions (comments dropped, continuation lines joined), grouped by stage. */
function dockerStages(): Instruction[][] {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((line) => !/^\s*#/.test(line));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  const stages: Instruction[][] = [];
  for (const line of joined.split('\n')) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const instruction = { op: (match[1] ?? '').toUpperCase(), args: (match[2] ?? '').trim() };
    if (instruction.op === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

/** Defaults of the ARGs declared before the first FROM (the ones FROM lines can use). */
function dockerArgDefaults(): Map<string, string> {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  const preamble = text.slice(0, text.search(/^FROM\s/m));
  return new Map([...preamble.matchAll(/^ARG\s+(\w+)=(\S+)\s*$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

/** The stage declared `FROM … AS name`. */
function namedStage(name: string): Instruction[] {
  const stage = dockerStages().find((st) => new RegExp(`\\sAS\\s+${name}$`, 'i').test(st[0]?.args ?? ''));
  expect(stage, `stage ${name}`).to.not.equal(undefined);
  return stage as Instruction[];
}

function finalStage(): Instruction[] {
  const stage = dockerStages().at(-1);
  expect(stage, 'Dockerfile stages').to.not.equal(undefined);
  return stage as Instruction[];
}

const args = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op).map((i) => i.args);

function execForm(stage: Instruction[], op: string): string[] {
  const [form] = args(stage, op).slice(-1);
  expect(form, `${op} in the final stage`).to.be.a('string');
  const parsed: unknown = JSON.parse(form as string);
  expect(parsed, `${op} in exec (JSON) form`).to.be.an('array');
  return (parsed as unknown[]).map(String);
}

const compose = () => firstDoc(join(DEPLOY, 'compose.yaml'));

/** Compose services built from deploy/Dockerfile: the order-stream roles, and the one-shot deploy step. */
function imageServices(): Array<[string, Obj]> {
  return Object.entries(at(compose(), 'services')).filter(
    (entry): entry is [string, Obj] => isObj(entry[1]) && isObj(entry[1].build) && String(entry[1].build.dockerfile).endsWith('deploy/Dockerfile'),
  );
}
const isOneShot = (service: Obj) => list(service.command).map(String)[0] === 'migrate';
/** The long-running roles. */
const appServices = () => imageServices().filter(([, service]) => !isOneShot(service));

function composeEnv(service: Obj): Map<string, string> {
  const env = service.environment;
  if (Array.isArray(env)) {
    return new Map(env.map((line) => {
      const [key = '', ...rest] = String(line).split('=');
      return [key, rest.join('=')];
    }));
  }
  return new Map(Object.entries(isObj(env) ? env : {}).map(([k, v]) => [k, String(v)]));
}

function seconds(duration: unknown): number {
  const match = /^(\d+)(ms|s|m)?$/.exec(String(duration));
  expect(match, `duration ${String(duration)}`).to.not.equal(null);
  const [, n = '0', unit = 's'] = match as RegExpExecArray;
  return Number(n) * ({ ms: 0.001, s: 1, m: 60 } as Record<string, number>)[unit]!;
}

// ---------------------------------------------------------------------------------------------

describe('deploy/', () => {
  it('every YAML document parses', () => {
    expect(yamlFiles.map(rel)).to.include.members([
      'deploy/compose.yaml',
      'deploy/prometheus/prometheus.yml',
      'deploy/k8s/base/kustomization.yaml',
      'deploy/k8s/overlays/example/kustomization.yaml',
      'deploy/k8s/monitoring/kustomization.yaml',
    ]);
    for (const file of yamlFiles) {
      const docs = docsOf(file);
      expect(docs.length, rel(file)).to.be.greaterThan(0);
      for (const doc of docs) expect(isObj(doc), `${rel(file)} holds mappings`).to.equal(true);
    }
  });

  describe('Kubernetes', () => {
    it('has an api and a processor Deployment running those roles', () => {
      expect(containersOf(deployment('api')).map((c) => list(c.args)[0])).to.deep.equal(['api']);
      expect(containersOf(deployment('processor')).map((c) => list(c.args)[0])).to.deep.equal(['processor']);
    });

    it('probes /healthz for liveness and start-up, /readyz for readiness, on the management port', () => {
      for (const d of deployments()) {
        const ports = containerPorts(d);
        for (const c of containersOf(d)) {
          const probes = { livenessProbe: '/healthz', readinessProbe: '/readyz', startupProbe: '/healthz' };
          for (const [probe, path] of Object.entries(probes)) {
            if (probe === 'startupProbe' && c.startupProbe === undefined) continue;
            const get = at(c, probe, 'httpGet');
            expect(get.path, `${nameOf(d)} ${probe}`).to.equal(path);
            expect(get.port, `${nameOf(d)} ${probe}`).to.equal('management');
            expect(portDeclared(get.port, ports), `${nameOf(d)} ${probe} port ${String(get.port)}`).to.equal(true);
          }
        }
      }
    });

    it('declares the ports the pods are configured with: http = PORT (api only), management = MANAGEMENT_PORT', () => {
      const port = Number(baseConfig().get('PORT') ?? settingDefault('PORT'));
      const management = Number(baseConfig().get('MANAGEMENT_PORT') ?? settingDefault('MANAGEMENT_PORT'));
      expect([port, management]).to.deep.equal([8080, 9090]);
      expect([settingDefault('PORT'), settingDefault('MANAGEMENT_PORT')]).to.deep.equal([8080, 9090]);
      const want = { 'order-stream-api': { http: port, management }, 'order-stream-processor': { management } };
      for (const d of deployments()) {
        const declared = Object.fromEntries(containerPorts(d).map((p) => [p.name, p.containerPort]));
        expect(declared, nameOf(d)).to.deep.equal(want[nameOf(d) as keyof typeof want]);
      }
    });

    it('exposes only the API port on the public Service; the management port only on headless Services', () => {
      const publicService = ofKind('Service').find((s) => nameOf(s) === 'order-stream-api');
      expect(objs(at(publicService?.doc, 'spec').ports).map((p) => p.targetPort)).to.deep.equal(['http']);
      for (const service of ofKind('Service')) {
        const targets = objs(at(service.doc, 'spec').ports).map((p) => p.targetPort);
        if (targets.includes('management')) {
          expect(targets, nameOf(service)).to.deep.equal(['management']);
          expect(at(service.doc, 'spec').clusterIP, `${nameOf(service)} is headless`).to.equal('None');
        }
      }
    });

    it('has NetworkPolicies admitting only the ingress controller to the API port and only Prometheus to the management port', () => {
      const policies = ofKind('NetworkPolicy');
      for (const d of deployments()) {
        const covering = policies.filter((p) => selects(at(p.doc, 'spec', 'podSelector', 'matchLabels'), podLabels(d)));
        expect(covering, `one policy for ${nameOf(d)}`).to.have.length(1);
        const spec = at(covering[0]!.doc, 'spec');
        expect(spec.policyTypes, nameOf(d)).to.deep.equal(['Ingress']);
        const ports = containerPorts(d).map((p) => p.name);
        const admitted = objs(spec.ingress).flatMap((rule) => objs(rule.ports).map((p) => ({ port: p.port, from: objs(rule.from) })));
        expect(admitted.map((a) => a.port).sort(), `${nameOf(d)}: every declared port admitted, nothing else`).to.deep.equal([...ports].sort());
        for (const { port, from } of admitted) {
          expect(from, `${nameOf(d)} ${String(port)}: from named peers only`).to.have.length(1);
          const peer = from[0]!;
          // Both a namespace and a pod selector (ANDed): not "every pod of that namespace", not "anyone".
          expect(Object.keys(at(peer, 'namespaceSelector', 'matchLabels')), `${nameOf(d)} ${String(port)}`).to.not.be.empty;
          const app = at(peer, 'podSelector', 'matchLabels')['app.kubernetes.io/name'];
          expect(app, `${nameOf(d)} ${String(port)}`).to.equal(port === 'management' ? 'prometheus' : 'ingress-nginx');
        }
      }
    });

    it('uses only setting names from the contract (env, ConfigMaps, overlay patches)', () => {
      const names = [
        ...deployments().flatMap((d) => envNames(d.doc)),
        ...baseConfig().keys(),
        ...generatorLiterals(OVERLAY).keys(),
        ...envNames(overlayPatches()),
      ];
      expect(names).to.include.members(['KAFKA_BROKERS', 'DATABASE_URL', 'PROCESSOR_BATCH_MAX_MESSAGES']);
      for (const name of names) expect(ALLOWED_ENV.has(name), `${name} is in SETTINGS`).to.equal(true);
    });

    it('gives every container each required setting, from the ConfigMap or env', () => {
      const configured = new Set(baseConfig().keys());
      for (const d of deployments()) {
        for (const c of containersOf(d)) {
          const fromConfigMap = objs(c.envFrom).some((e) => isObj(e.configMapRef) && e.configMapRef.name === 'order-stream-config');
          expect(fromConfigMap, `${nameOf(d)} envFrom order-stream-config`).to.equal(true);
          const available = new Set([...configured, ...envNames(c)]);
          for (const name of REQUIRED_SETTINGS) expect(available.has(name), `${nameOf(d)} gets ${name}`).to.equal(true);
        }
      }
    });

    it('takes secret settings from secretKeyRef only, never from a ConfigMap', () => {
      expect(SECRET_SETTINGS).to.include('DATABASE_URL');
      const inConfigMaps = [...overlayConfig().keys()];
      for (const name of SECRET_SETTINGS) expect(inConfigMaps, `${name} in a ConfigMap`).to.not.include(name);
      for (const d of deployments()) {
        for (const c of containersOf(d)) {
          for (const name of SECRET_SETTINGS) {
            const entry = objs(c.env).find((e) => e.name === name);
            expect(entry, `${nameOf(d)} env ${name}`).to.not.equal(undefined);
            expect(entry?.value, `${nameOf(d)} ${name} as plaintext`).to.equal(undefined);
            const ref = at(entry, 'valueFrom', 'secretKeyRef');
            expect(ref, `${nameOf(d)} ${name}`).to.deep.include({ name: 'order-stream-secrets', key: name });
          }
        }
      }
    });

    it('keeps the example Secret out of the kustomization', () => {
      expect(existsSync(join(BASE, 'secret.example.yaml'))).to.equal(true);
      const kinds = manifests().filter((m) => listedResources(BASE).includes(m.file)).map((m) => m.doc.kind);
      expect(kinds).to.include('Deployment').and.not.include('Secret');
    });

    it('gives each pod a grace period above its preStop sleep plus SHUTDOWN_TIMEOUT_MS', () => {
      const shutdownMs = configuredMs(baseConfig(), 'SHUTDOWN_TIMEOUT_MS');
      for (const d of deployments()) {
        const graceMs = Number(podSpec(d).terminationGracePeriodSeconds) * 1000;
        const preStopMs = Math.max(0, ...containersOf(d).map(preStopSleepMs));
        expect(graceMs, nameOf(d)).to.be.greaterThan(preStopMs + shutdownMs);
      }
      const processorGraceMs = Number(podSpec(deployment('processor')).terminationGracePeriodSeconds) * 1000;
      expect(processorGraceMs).to.be.greaterThan(Number(settingDefault('SHUTDOWN_TIMEOUT_MS')));
      expect(preStopSleepMs(containersOf(deployment('api'))[0] ?? {}), 'api preStop sleep').to.be.greaterThan(0);
    });

    it('runs no more processors than the topic has partitions (base and overlay)', () => {
      const baseReplicas = Number(at(deployment('processor').doc, 'spec').replicas);
      expect(baseReplicas).to.be.at.least(1);
      expect(baseReplicas).to.be.at.most(Number(baseConfig().get('ORDERS_TOPIC_PARTITIONS') ?? settingDefault('ORDERS_TOPIC_PARTITIONS')));
      const override = objs(kustomization(OVERLAY).replicas).find((r) => r.name === 'order-stream-processor');
      const overlayReplicas = Number(override?.count ?? baseReplicas);
      expect(overlayReplicas).to.be.at.most(Number(overlayConfig().get('ORDERS_TOPIC_PARTITIONS')));
    });

    it('runs at least two api replicas, autoscaled by an HPA targeting the api Deployment', () => {
      expect(Number(at(deployment('api').doc, 'spec').replicas)).to.be.at.least(2);
      const hpas = ofKind('HorizontalPodAutoscaler');
      expect(hpas).to.have.length.greaterThan(0);
      for (const hpa of hpas) {
        const spec = at(hpa.doc, 'spec');
        expect(hpa.doc.apiVersion).to.equal('autoscaling/v2');
        expect(Number(spec.minReplicas)).to.be.at.least(2);
        expect(Number(spec.maxReplicas)).to.be.at.least(Number(spec.minReplicas));
        expect(at(spec, 'scaleTargetRef')).to.deep.include({ apiVersion: 'apps/v1', kind: 'Deployment', name: nameOf(deployment('api')) });
      }
    });

    it('has PodDisruptionBudgets that select pods, one of them the api pods', () => {
      const pdbs = ofKind('PodDisruptionBudget');
      const selectors = pdbs.map((pdb) => at(pdb.doc, 'spec', 'selector', 'matchLabels'));
      expect(selectors.some((s) => selects(s, podLabels(deployment('api')))), 'a PDB for the api').to.equal(true);
      for (const [i, selector] of selectors.entries()) {
        expect(deployments().some((d) => selects(selector, podLabels(d))), `PDB ${nameOf(pdbs[i] as Manifest)}`).to.equal(true);
      }
    });

    it('has Services that select existing pods and target their container ports', () => {
      const services = ofKind('Service');
      expect(services.map(nameOf)).to.include(nameOf(deployment('api')));
      for (const service of services) {
        const targets = deployments().filter((d) => selects(at(service.doc, 'spec', 'selector'), podLabels(d)));
        expect(targets, `pods of Service ${nameOf(service)}`).to.not.be.empty;
        for (const port of objs(at(service.doc, 'spec').ports)) {
          const target = port.targetPort ?? port.port;
          for (const d of targets) expect(portDeclared(target, containerPorts(d)), `${nameOf(service)} → ${String(target)}`).to.equal(true);
        }
      }
    });

    it('has ServiceMonitors that select existing Services by their management port, scraping /metrics', () => {
      const monitors = ofKind('ServiceMonitor');
      expect(monitors).to.have.length(2);
      for (const monitor of monitors) {
        const service = ofKind('Service').find((s) => selects(at(monitor.doc, 'spec', 'selector', 'matchLabels'), at(s.doc, 'metadata', 'labels')));
        expect(service, `Service of ${nameOf(monitor)}`).to.not.equal(undefined);
        const portNames = objs(at(service?.doc, 'spec').ports).map((p) => p.name);
        for (const endpoint of objs(at(monitor.doc, 'spec').endpoints)) {
          expect(portNames, nameOf(monitor)).to.include(endpoint.port);
          expect(endpoint.port, nameOf(monitor)).to.equal('management');
          expect(endpoint.path).to.equal('/metrics');
        }
      }
    });

    it('runs containers as non-root with a read-only root filesystem and no privileges', () => {
      for (const d of deployments()) {
        const pod = at(podSpec(d), 'securityContext');
        expect(pod.runAsNonRoot, nameOf(d)).to.equal(true);
        for (const c of containersOf(d)) {
          const sc = at(c, 'securityContext');
          expect(sc.runAsNonRoot, nameOf(d)).to.equal(true);
          expect(Number(sc.runAsUser ?? pod.runAsUser), nameOf(d)).to.equal(10001);
          expect(sc.readOnlyRootFilesystem, nameOf(d)).to.equal(true);
          expect(sc.allowPrivilegeEscalation, nameOf(d)).to.equal(false);
          expect(list(at(sc, 'capabilities').drop), nameOf(d)).to.include('ALL');
          expect(at(c, 'resources', 'limits'), nameOf(d)).to.include.keys('cpu', 'memory');
        }
      }
    });

    it('lists only existing files and directories in every kustomization', () => {
      const dirs = yamlFiles.filter((f) => f.endsWith('kustomization.yaml')).map(dirname);
      expect(dirs.map(rel)).to.have.members(['deploy/k8s/base', 'deploy/k8s/monitoring', 'deploy/k8s/overlays/example', 'deploy/k8s/overlays/local']);
      for (const dir of dirs) {
        const k = kustomization(dir);
        const entries = [...list(k.resources), ...list(k.components)].map(String);
        expect(entries, rel(dir)).to.not.be.empty;
        for (const entry of entries) {
          const path = join(dir, entry);
          const ok = existsSync(path) && (statSync(path).isFile() || existsSync(join(path, 'kustomization.yaml')));
          expect(ok, `${rel(dir)}: ${entry}`).to.equal(true);
        }
      }
    });

    it('keeps the base namespace-agnostic and the overlay in namespace order-stream with the monitoring component', () => {
      expect(kustomization(BASE)).to.not.have.property('namespace');
      for (const m of manifests().filter((x) => x.file.startsWith(BASE))) expect(at(m.doc, 'metadata'), rel(m.file)).to.not.have.property('namespace');
      const overlay = kustomization(OVERLAY);
      expect(overlay.namespace).to.equal('order-stream');
      expect(list(overlay.components).map((c) => posix.normalize(`k8s/overlays/example/${String(c)}`))).to.include('k8s/monitoring');
      expect(objs(overlay.images)).to.deep.include({ name: 'order-stream', newName: 'registry.example.com/order-stream', newTag: '0.1.0' });
    });
  });

  describe('Dockerfile', () => {
    it('builds on node:24-bookworm and runs on node:24-bookworm-slim by default, base images being build arguments', () => {
      const defaults = dockerArgDefaults();
      const from = (stage: Instruction[]) => (stage[0]?.args ?? '').split(/\s+/)[0] ?? '';
      const froms = [from(namedStage('build')), from(finalStage())];
      expect(froms).to.deep.equal(['${BUILD_IMAGE}', '${RUNTIME_IMAGE}']);
      expect(froms.map((f) => f.replace(/^\$\{(\w+)\}$/, (_, name: string) => defaults.get(name) ?? f))).to.deep.equal(['node:24-bookworm', 'node:24-bookworm-slim']);
      expect(namedStage('build').map((i) => i.args).join('\n')).to.match(/CKJS_LINKING=dynamic/).and.match(/npm ci/).and.match(/npm prune --omit=dev/);
    });

    it('mounts the CA bundle for npm ci as a build secret, never copying it into a layer', () => {
      const build = namedStage('build');
      const npmCi = args(build, 'RUN').find((a) => /npm ci/.test(a)) ?? '';
      expect(npmCi).to.match(/--mount=type=secret,id=npm_ca\b/).and.match(/NODE_EXTRA_CA_CERTS=\/run\/secrets\/npm_ca/);
      const all = dockerStages().flat();
      for (const i of all.filter((x) => ['COPY', 'ADD', 'ENV', 'ARG'].includes(x.op))) expect(i.args, `${i.op} ${i.args}`).to.not.match(/ca-certificates\.crt|\.pem\b|NODE_EXTRA_CA_CERTS/);
    });

    it('keeps only the sources in the build context (.dockerignore): no .stack, node_modules, dist, .git or env files', () => {
      const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      // The file is an allow-list: `*`, then `!name` per file or directory let back in.
      expect(patterns[0]).to.equal('*');
      for (const p of patterns.slice(1)) expect(p, 'pattern form').to.match(/^![\w.-]+$/);
      const included = (path: string) => patterns.slice(1).some((p) => path === p.slice(1) || path.startsWith(`${p.slice(1)}/`));
      for (const path of ['.stack/env', '.stack/postgres/data/PG_VERSION', 'node_modules/pg/package.json', 'dist/main.js', '.git/HEAD', '.env', 'test/unit/plan.test.ts', 'deploy/Dockerfile']) {
        expect(included(path), path).to.equal(false);
      }
      // Everything the Dockerfile copies from the context is let in.
      const copied = dockerStages().flatMap((st) => args(st, 'COPY')).filter((a) => !a.startsWith('--from')).flatMap((a) => a.split(/\s+/).slice(0, -1));
      expect(copied).to.include.members(['package.json', 'src', 'schemas', 'config']);
      for (const path of copied) expect(included(path), path).to.equal(true);
    });

    it('runs the final stage as a non-root USER', () => {
      const users = args(finalStage(), 'USER');
      expect(users).to.have.length.greaterThan(0);
      const user = (users.at(-1) ?? '').split(':')[0];
      expect(user).to.not.be.oneOf(['', 'root', '0']);
      expect(user).to.equal('10001');
    });

    it('enters through node dist/main.js with a role as the default command', () => {
      expect(execForm(finalStage(), 'ENTRYPOINT')).to.deep.equal(['node', 'dist/main.js']);
      const [role] = execForm(finalStage(), 'CMD');
      expect(ROLES).to.include(role);
    });

    it('copies dist, node_modules, schemas, config and package.json into WORKDIR /app', () => {
      const stage = finalStage();
      expect(args(stage, 'WORKDIR').at(-1)).to.equal('/app');
      const destinations = args(stage, 'COPY').map((a) => posix.resolve('/app', a.split(/\s+/).at(-1) ?? ''));
      expect(destinations).to.include.members(['/app/dist', '/app/node_modules', '/app/schemas', '/app/config', '/app/package.json']);
    });

    it('sets NODE_ENV=production, PORT and MANAGEMENT_PORT to the contract defaults, and exposes them', () => {
      const env = args(finalStage(), 'ENV').join(' ');
      expect(env).to.match(/\bNODE_ENV=production\b/);
      expect(env).to.match(new RegExp(`(^|\\s)PORT=${settingDefault('PORT')}\\b`));
      expect(env).to.include(`MANAGEMENT_PORT=${settingDefault('MANAGEMENT_PORT')}`);
      expect(args(finalStage(), 'EXPOSE')).to.deep.equal([`${settingDefault('PORT')} ${settingDefault('MANAGEMENT_PORT')}`]);
    });
  });

  describe('compose', () => {
    it('runs the app services from deploy/Dockerfile with real roles, after the one-shot deploy step', () => {
      const services = appServices();
      expect(services.map(([name]) => name)).to.include.members(['api', 'processor']);
      for (const [name, service] of services) {
        const [role] = list(service.command).map(String);
        expect(ROLES, `${name} command`).to.include(role);
      }
      const oneShots = imageServices().filter(([, service]) => isOneShot(service));
      expect(oneShots.map(([name]) => name)).to.deep.equal(['migrate']);
      expect(oneShots[0]![1].restart).to.equal('no');
    });

    it('configures the app services with contract names only, every required one set', () => {
      for (const [name, service] of appServices()) {
        const env = composeEnv(service);
        expect(env.size, name).to.be.greaterThan(0);
        for (const key of env.keys()) expect(ALLOWED_ENV.has(key), `${name}: ${key} is in SETTINGS`).to.equal(true);
        for (const key of REQUIRED_SETTINGS) expect(env.has(key), `${name} sets ${key}`).to.equal(true);
      }
    });

    it('waits for healthy dependencies that define a healthcheck', () => {
      const services = at(compose(), 'services');
      for (const [name, service] of appServices()) {
        const deps = Object.entries(at(service, 'depends_on'));
        expect(deps.map(([dep]) => dep), name).to.include.members(['kafka', 'schema-registry', 'postgres', 'migrate']);
        for (const [dep, how] of deps) {
          if (dep === 'migrate') {
            expect(at(how).condition, `${name} → ${dep}`).to.equal('service_completed_successfully');
            continue;
          }
          expect(at(how).condition, `${name} → ${dep}`).to.equal('service_healthy');
          expect(at(services, dep), dep).to.have.property('healthcheck');
        }
      }
    });

    it('stops the app services within a grace period above SHUTDOWN_TIMEOUT_MS, read-only', () => {
      for (const [name, service] of appServices()) {
        const shutdownMs = configuredMs(composeEnv(service), 'SHUTDOWN_TIMEOUT_MS');
        expect(seconds(service.stop_grace_period) * 1000, name).to.be.greaterThan(shutdownMs);
        expect(service.read_only, name).to.equal(true);
      }
    });

    it('has Prometheus scrape every app service on its MANAGEMENT_PORT, never the API port', () => {
      const prometheus = firstDoc(join(DEPLOY, 'prometheus', 'prometheus.yml'));
      const targets = objs(prometheus.scrape_configs).flatMap((job) => objs(job.static_configs).flatMap((s) => list(s.targets)));
      for (const [name, service] of appServices()) {
        const port = composeEnv(service).get('MANAGEMENT_PORT') ?? String(settingDefault('MANAGEMENT_PORT'));
        expect(targets, name).to.include(`${name}:${port}`);
        expect(targets, name).to.not.include(`${name}:${composeEnv(service).get('PORT') ?? String(settingDefault('PORT'))}`);
      }
    });
  });

  describe('Kafka Connect connectors', () => {
    const connector = (file: string) => at(JSON.parse(readFileSync(join(DEPLOY, 'connect', file), 'utf8')) as unknown, 'config');
    const created = (JSON.parse(readFileSync(join(ROOT, 'schemas', 'order-events.avsc'), 'utf8')) as { name: string; fields: { name: string }[] }[])
      .find((r) => r.name === 'OrderCreated')!;

    it('sinks the orders topic into its own table, upsert by order_id, through Apicurio in the Confluent wire format', () => {
      const config = connector('orders-jdbc-sink.json');
      expect(config.topics).to.equal('orders').and.equal(settingDefault('ORDERS_TOPIC'));
      expect(config['connector.class']).to.equal('io.debezium.connector.jdbc.JdbcSinkConnector');
      expect(config['value.converter']).to.equal('io.apicurio.registry.utils.converter.AvroConverter');
      expect(config['value.converter.apicurio.registry.url']).to.match(/^https?:\/\/.*\/apis\/registry\/v2$/);
      expect(config['value.converter.apicurio.registry.as-confluent']).to.equal('true');
      expect(config['value.converter.apicurio.registry.use-id']).to.equal('contentId');
      expect(config['collection.name.format']).to.be.a('string').and.not.equal('orders');
      expect(config['insert.mode']).to.equal('upsert');
      expect(config['transforms.onlyOrders.condition']).to.include(`'orderstream.orders.${created.name}'`);
      // Every OrderCreated field gets a column name, and the key is orderId's.
      const renames = new Map(String(config['transforms.columns.renames']).split(',').map((r) => r.split(':') as [string, string]));
      const unrenamed = created.fields.map((f) => f.name).filter((f) => !renames.has(f) && f !== f.toLowerCase());
      expect(unrenamed, 'camelCase fields without a snake_case column').to.deep.equal([]);
      expect(config['primary.key.fields']).to.equal(renames.get('orderId'));
      expect(existsSync(join(DEPLOY, 'connect', 'README.md'))).to.equal(true);
    });

    it('captures the tables the processor writes, partitioned by product as the topics are created', () => {
      const config = connector('orders-cdc-source.json');
      expect(config['connector.class']).to.equal('io.debezium.connector.postgresql.PostgresConnector');
      expect(config['plugin.name']).to.equal('pgoutput');
      expect(String(config['table.include.list']).split(',').sort()).to.deep.equal(['public.catalog', 'public.orders', 'public.stock_additions']);
      expect(config['transforms.byProduct.partition.topic.num']).to.equal(config['topic.creation.default.partitions']);
    });
  });
});
