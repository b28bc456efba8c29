// Every manifest that kustomize renders from deploy/k8s — the base and each overlay (the example
// one includes the monitoring component) — validated strictly, offline:
//   built-in kinds against the Kubernetes 1.37 OpenAPI schemas with kubernetes-validate --strict
//   (PyPI, pinned in scripts/requirements.txt; unknown fields are errors);
//   ServiceMonitor and PrometheusRule against their CRD schemas (deploy/k8s/crd-schemas) with ajv,
//   unknown fields being errors there too.
// Each validator is first shown to reject a manifest with one misspelt field, so a pass means
// something. Needs kubectl (kustomize) and python3; no cluster.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parseAllDocuments, stringify } from 'yaml';

type Obj = Record<string, unknown>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S = join(ROOT, 'deploy', 'k8s');
const KUBERNETES_VERSION = '1.37.0';
const CRD_GROUP = 'monitoring.coreos.com';
const CRD_SCHEMAS: Record<string, string> = {
  [`${CRD_GROUP}/v1/ServiceMonitor`]: 'servicemonitor_v1.json',
  [`${CRD_GROUP}/v1/PrometheusRule`]: 'prometheusrule_v1.json',
};

/** The kustomizations that render on their own: the base and every overlay. */
const TARGETS = ['base', ...readdirSync(join(K8S, 'overlays')).map((o) => `overlays/${o}`)];

function render(target: string): Obj[] {
  const out = execFileSync('kubectl', ['kustomize', join(K8S, target)], { encoding: 'utf8' });
  return parseAllDocuments(out).map((doc) => doc.toJS() as Obj);
}

const keyOf = (doc: Obj) => `${String(doc.apiVersion)}/${String(doc.kind)}`;
const nameOf = (doc: Obj) => `${String(doc.kind)} ${String((doc.metadata as Obj | undefined)?.name)}`;
const isCustom = (doc: Obj) => String(doc.apiVersion).startsWith(`${CRD_GROUP}/`);

let toolsBin = '';
let tmp = '';

/** kubernetes-validate --strict on these documents: '' when valid, else its report. */
function kubernetesValidate(docs: Obj[], name: string): string {
  const file = join(tmp, `${name.replace(/\W+/g, '-')}.yaml`);
  // YAML 1.1, as the validator (and kubectl) read it: strings such as "off" stay quoted.
  writeFileSync(file, docs.map((d) => stringify(d, { version: '1.1' })).join('---\n'));
  const run = spawnSync(join(toolsBin, 'kubernetes-validate'), ['--strict', '--quiet', '-k', KUBERNETES_VERSION, file], { encoding: 'utf8' });
  return run.status === 0 ? '' : `${run.stdout}${run.stderr}`.trim() || `exit ${run.status}`;
}

// CRD schemas are OpenAPI v3: int-or-string and list markers are annotations, int32/int64
// formats; Go regular expressions may carry an inline (?i) flag, which JavaScript spells as a flag.
const ajv = new Ajv({
  allErrors: true,
  strict: false,
  code: {
    regExp: Object.assign(
      (pattern: string, flags?: string) =>
        pattern.includes('(?i)') ? new RegExp(pattern.replace('(?i)', ''), `${flags ?? ''}i`) : new RegExp(pattern, flags ?? 'u'),
      { code: 'new RegExp' },
    ),
  },
});
addFormats.default(ajv);
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });

const crdValidators = new Map<string, ValidateFunction>();
function crdValidator(key: string): ValidateFunction {
  const file = CRD_SCHEMAS[key];
  if (!file) throw new Error(`no CRD schema for ${key} in deploy/k8s/crd-schemas`);
  let validate = crdValidators.get(key);
  if (!validate) {
    validate = ajv.compile(JSON.parse(readFileSync(join(K8S, 'crd-schemas', file), 'utf8')) as object);
    crdValidators.set(key, validate);
  }
  return validate;
}

/** Validation errors of a custom resource against its CRD schema ([] when valid). */
function crdErrors(doc: Obj): string[] {
  const validate = crdValidator(keyOf(doc));
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e) => `${nameOf(doc)}${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

describe('rendered Kubernetes manifests (strict schemas)', function () {
  this.timeout(300_000);

  before(() => {
    toolsBin = execFileSync('bash', [join(ROOT, 'scripts', 'tools.sh')], { encoding: 'utf8' }).trim();
    tmp = mkdtempSync(join(tmpdir(), 'order-stream-manifests-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('rejects a misspelt field, both for built-in kinds and for the CRDs', () => {
    const deployment = render('base').find((d) => d.kind === 'Deployment') as Obj;
    const broken = structuredClone(deployment) as { spec: { template: { spec: { containers: Obj[] } } } };
    broken.spec.template.spec.containers[0]!.imagePullPolcy = 'Never';
    expect(kubernetesValidate([deployment], 'control-ok')).to.equal('');
    expect(kubernetesValidate([broken as unknown as Obj], 'control-broken')).to.match(/imagePullPolcy/);

    const monitor = render('overlays/example').find((d) => d.kind === 'ServiceMonitor') as Obj;
    expect(crdErrors(monitor)).to.deep.equal([]);
    const badMonitor = structuredClone(monitor) as { spec: { endpoints: Obj[] } };
    badMonitor.spec.endpoints[0]!.intervall = '15s';
    expect(crdErrors(badMonitor as unknown as Obj).join('\n')).to.match(/additionalProperty.*intervall/);
    const rule: Obj = { apiVersion: `${CRD_GROUP}/v1`, kind: 'PrometheusRule', metadata: { name: 'x' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up == 0', for: '5 m' }] }] } };
    expect(crdErrors(rule).join('\n')).to.match(/\/spec\/groups\/0\/rules\/0\/for/);
  });

  for (const target of TARGETS) {
    it(`validates every object of ${target} (Kubernetes ${KUBERNETES_VERSION}, CRDs)`, () => {
      const docs = render(target);
      expect(docs.map((d) => d.kind)).to.include.members(['Deployment', 'Service', 'ConfigMap']);
      expect(kubernetesValidate(docs.filter((d) => !isCustom(d)), target), target).to.equal('');
      const custom = docs.filter(isCustom);
      for (const doc of custom) expect(crdErrors(doc), `${target}: ${nameOf(doc)}`).to.deep.equal([]);
      if (target === 'overlays/example') expect(custom.map(keyOf)).to.include(`${CRD_GROUP}/v1/ServiceMonitor`);
    });
  }
});
