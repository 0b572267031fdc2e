// The VSIX this suite installed is the one `npm run package` makes (scripts/package.ts): what the
// Marketplace and Open VSX would show from it has no broken link or image, and it holds the icon,
// the licence and only the files a user needs.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { inspectVsix } from '../../scripts/check-vsix';

describe('the packaged VSIX', () => {
  it('has absolute README links into files that exist, an icon, a licence, and stays under 2 MB', async () => {
    const report = await inspectVsix(path.resolve(__dirname, '..', '..', '.test-runs', 'maof.vsix'));
    assert.deepEqual(report.problems, []);
    assert.ok(report.links.some((l) => l.endsWith('docs/images/inline-preview.png')), 'the README image is linked absolutely');
    assert.ok(report.files.includes('extension/dist/extension.js'));
  });
});
