import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { SETTINGS } from '../../src/config/index.js';

describe('README', () => {
  it('documents every setting with its default', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const setting of SETTINGS) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${setting.name}\` |`));
      expect(row, `README row for ${setting.name}`).to.be.a('string');
      const shown = 'default' in setting ? `\`${setting.default}\`` : '— (required)';
      expect(row).to.include(shown);
    }
  });
});
