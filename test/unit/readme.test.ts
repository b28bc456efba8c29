import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { SETTINGS } from '../../src/config/index.js';
import { RULES } from '../../src/api/auth/rules.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every setting with its default', () => {
    for (const setting of SETTINGS) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${setting.name}\` |`));
      expect(row, `README row for ${setting.name}`).to.be.a('string');
      const shown = 'default' in setting ? `\`${setting.default}\`` : '— (required)';
      expect(row).to.include(shown);
    }
  });

  it('states the rule table of src/api/auth/rules.ts, row by row', () => {
    const section = readme.slice(readme.indexOf('### Who may call the API'));
    const rows = section.split('\n').filter((line) => /^\| `(GET|POST|PUT) \//.test(line));
    expect(rows, 'one row per rule').to.have.length(RULES.length);
    for (const rule of RULES) {
      const row = rows.find((line) => line.startsWith(`| \`${rule.method} ${rule.route}\` |`));
      expect(row, `${rule.method} ${rule.route}`).to.be.a('string');
      const allowed = row!.split('|')[2]!;
      for (const grant of rule.allow) {
        const words = grant.to === 'owner' ? 'the user' : grant.to === 'scope' ? `scope \`${grant.scope}\`` : 'any valid token';
        expect(allowed, `${rule.method} ${rule.route}`).to.include(words);
      }
      expect(allowed.split(/,| or /).filter((part) => part.trim() !== '').length, `${rule.method} ${rule.route}: no grant the code lacks`).to.equal(rule.allow.length);
    }
  });
});
