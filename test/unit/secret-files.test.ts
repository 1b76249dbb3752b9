/**
 * The built-in "ask" list: every file that holds credentials in real repositories and home folders asks before an
 * agent reads it, at any depth and in any letter case, while ordinary files with similar names stay readable.
 * README.md says exactly what asks: every built-in glob appears there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Policy, SECRET_FILE_GLOBS } from '../../src/core/policy.js';

const ASKS = [
  '.env', '.env.local', '.env.production', '.env_local', '.envrc', 'services/api/.env.test', '.ENV',
  '.npmrc', 'packages/web/.npmrc', '.yarnrc', '.yarnrc.yml',
  '.pypirc', '.netrc', '_netrc', 'home/me/.netrc', '.git-credentials',
  '.docker/config.json', 'home/me/.docker/config.json', '.kube/config', 'ops/.kube/config',
  'certs/server.pem', 'tls/server.key', 'signing/release.p12', 'certs/client.pfx', 'android/app.jks',
  'android/release.keystore', 'deploy/id_rsa', 'id_ed25519.pub',
  'credentials.json', 'gcp/credentials.json', 'terraform.tfvars', 'infra/prod/terraform.tfvars',
  'terraform.tfstate', 'infra/prod/terraform.tfstate', 'infra/terraform.tfstate.backup',
  '.aws/credentials', 'home/.ssh/config', 'Certs/Server.PFX',
];

const READABLE = [
  'src/id_utils.ts', 'docs/environment.md', 'src/keys.ts', 'src/env.ts', 'config.json', 'docker/config.json',
  'kube/config', 'src/credentials.ts', 'terraform/main.tf', 'variables.tf', 'src/keystore.ts', 'README.md',
  'npmrc.md', 'src/netrc-parser.ts',
];

for (const path of ASKS) {
  test(`reading ${path} asks`, () => {
    const verdict = Policy.defaults().decide({ tool: 'workspace_read', path });
    assert.equal(verdict.decision, 'ask');
    assert.match(verdict.reason, /^built-in rule: .*credentials/);
    assert.equal(Policy.defaults().decide({ tool: 'workspace_search', path }).decision, 'ask');
  });
}

for (const path of READABLE) {
  test(`reading ${path} is allowed (control)`, () => {
    assert.equal(Policy.defaults().decide({ tool: 'workspace_read', path }).decision, 'allow');
  });
}

test('a workspace policy cannot loosen the built-in ask', () => {
  const permissive = Policy.parse({ rules: [{ tools: ['workspace_read'], paths: ['**'], decision: 'allow' }] }, 'ws.json');
  for (const path of ['.npmrc', 'infra/terraform.tfstate', '.kube/config']) {
    assert.equal(Policy.combine(Policy.defaults(), permissive).decide({ tool: 'workspace_read', path }).decision, 'ask', path);
  }
});

test('README.md names every built-in secret-file glob', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  for (const glob of SECRET_FILE_GLOBS) {
    // `**/.aws` and `**/.aws/**` read as "anything under `.aws/`".
    const shown = glob.replace(/^\*\*\//, '').replace(/\/\*\*$/, '/').replace(/^(\.aws|\.ssh)$/, '$1/');
    assert.ok(readme.includes(`\`${shown}\``), `README lists \`${shown}\``);
  }
});
