// One supported Node.js major everywhere it is named: /.node-version (what scripts/node.sh installs
// for CI and the local base images), `engines`, @types/node, the Dockerfile's default base images,
// the local stand-ins' names, the README, and the process running these tests.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; devDependencies: Record<string, string> };
const version = read('.node-version').trim().replace(/^v/, '');
const major = version.split('.')[0] ?? '';

describe('Node.js runtime', () => {
  it('pins a full release in .node-version', () => {
    expect(version).to.match(/^\d+\.\d+\.\d+$/);
  });

  it('names the same major in engines and @types/node', () => {
    // ^N or >=N <N+1: this major and no other.
    const m = /^(?:\^(\d+)(?:\.\d+){0,2}|>=\s*(\d+)(?:\.\d+){0,2}\s+<\s*(\d+))$/.exec(pkg.engines.node.trim());
    expect(m, `engines.node ${pkg.engines.node}`).to.not.equal(null);
    if (m?.[2] !== undefined) expect(Number(m[3]), 'engines upper bound').to.equal(Number(m[2]) + 1);
    expect(m?.[1] ?? m?.[2]).to.equal(major);
    expect(pkg.devDependencies['@types/node']).to.match(new RegExp(`^\\^${major}\\.`));
  });

  it('builds the image on that major: the Dockerfile defaults and the local base images', () => {
    const froms = [...read('deploy/Dockerfile').matchAll(/^ARG\s+(?:BUILD|RUNTIME)_IMAGE=node:(\d+)-/gm)].map((x) => x[1]);
    expect(froms).to.deep.equal([major, major]);
    const local = [...read('scripts/image/env.sh').matchAll(/order-stream-node:(\d+)-/g)].map((x) => x[1]);
    expect(local).to.deep.equal([major, major]);
  });

  it('says in the README which Node.js is supported', () => {
    expect(read('README.md')).to.match(new RegExp(`Node\\.js ${major}\\b[^\\n]*LTS`));
  });

  it('runs these tests on it', () => {
    expect(process.versions.node.split('.')[0]).to.equal(major);
  });
});
