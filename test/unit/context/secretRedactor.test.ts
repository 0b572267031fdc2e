import assert from 'node:assert/strict';
import { IncrementalRedactor, isSecretFile, redactKnownValues, redactSecrets, redactSecretsMapped } from '../../../src/core/context/secretRedactor';
import { mulberry32 } from './randomText';

// Fake keys with the shape of real ones, built at run time so no scanner mistakes this file for a leak.
const k = (...parts: string[]): string => parts.join('');
const ANTHROPIC = k('sk-ant-', 'api03-', 'Xy7Qk2LmN9pR4sT1uV6wZ0aB3cD5eF8gH2iJ4kL6mN8oP0qR2sT4uV6wX8yZ0aB2cD4eF6gH8iJ0kL2mN4oP6q-AbCdEf', 'AA');
const OPENAI_PROJECT = k('sk-', 'proj-', 'Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34Yz56_-T3BlbkFJ');
const OPENAI_LEGACY = k('sk-', 'Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34');
const AWS_ID = k('AKIA', 'Z7Q2LMN9PR4ST1UV');
const AWS_SECRET = k('wJalrXUtnFEMI/K7MDENG/', 'bPxRfiCYz9Q2LmN7pR4sT1');
const GITHUB = k('ghp_', 'Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78');
const GITHUB_PAT = k('github_pat_', '11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV');
const SLACK = k('xoxb-', '123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx');
const GOOGLE = k('AIza', 'SyD-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op5');
const STRIPE = k('sk_', 'live_', '51Hx7Qk2LmN9pR4sT1uV6wZ0aB');
const STRIPE_RESTRICTED = k('rk_', 'live_', '51Hx7Qk2LmN9pR4sT1uV6wZ0aB');
const JWT = k('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9', '.', 'eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ', '.', 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c');
const PEM = k('-----BEGIN ', 'RSA PRIVATE KEY-----\n', 'MIIEpAIBAAKCAQEA7Qk2LmN9pR4sT1uV6wZ0aB3cD5eF8gH2iJ4kL6mN8oP0qR2s\n', 'T4uV6wX8yZ0aB2cD4eF6gH8iJ0kL2mN4oP6qAbCdEfGhIjKlMnOpQrStUvWxYz01\n', '-----END RSA PRIVATE KEY-----');

describe('secretRedactor', () => {
  const families: Array<[string, string, string]> = [
    ['Anthropic', `const client = new Anthropic({ apiKey: "${ANTHROPIC}" });`, ANTHROPIC],
    ['OpenAI project key', `export OPENAI_API_KEY=${OPENAI_PROJECT}`, OPENAI_PROJECT],
    ['OpenAI legacy key', `openai.api_key = '${OPENAI_LEGACY}'`, OPENAI_LEGACY],
    ['AWS access key id', `aws_access_key_id = ${AWS_ID}`, AWS_ID],
    ['AWS secret access key', `aws_secret_access_key = ${AWS_SECRET}`, AWS_SECRET],
    ['GitHub token', `git clone https://x:${GITHUB}@github.com/acme/app.git`, GITHUB],
    ['GitHub fine-grained token', `GH=${GITHUB_PAT} gh api /user`, GITHUB_PAT],
    ['Slack token', `slack.token(${JSON.stringify(SLACK)})`, SLACK],
    ['Google API key', `const maps = load({ key: "${GOOGLE}" })`, GOOGLE],
    ['Stripe secret key', `stripe = Stripe("${STRIPE}")`, STRIPE],
    ['Stripe restricted key', `stripe = Stripe("${STRIPE_RESTRICTED}")`, STRIPE_RESTRICTED],
    ['JWT', `const session = "${JWT}";`, JWT],
    ['password assignment', 'db.connect({ user: "app", password: "hunter2-Correct-Horse" })', 'hunter2-Correct-Horse'],
    ['secret in YAML', 'client_secret: Zq8fLm2Pw9Xv4Rt7', 'Zq8fLm2Pw9Xv4Rt7'],
    ['api_key in JSON', '{ "api_key": "a1b2c3d4e5f6a7b8c9d0" }', 'a1b2c3d4e5f6a7b8c9d0'],
    ['password set by index', 'settings["password"] = "Tr0ub4dor&3x"', 'Tr0ub4dor&3x'],
    ['env-style password', 'DB_PASSWORD=correcthorsebattery', 'correcthorsebattery'],
    ['token with a key-like value', 'NPM_TOKEN=npm_Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56', 'npm_Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56'],
    ['bearer header', 'curl -H "Authorization: Bearer abC123def456ghi789jkl0" https://api', 'abC123def456ghi789jkl0'],
    ['basic auth header', "headers['Authorization'] = 'Basic dXNlcjpwYXNzd29yZDEyMw=='", 'dXNlcjpwYXNzd29yZDEyMw=='],
    ['password in a URL', 'DATABASE_URL=postgres://admin:s3cr3t-pass@db.internal:5432/app', 's3cr3t-pass'],
  ];

  for (const [family, line, secret] of families) {
    it(`redacts a ${family} and keeps the rest of the line`, () => {
      const out = redactSecrets(line);
      assert.ok(!out.text.includes(secret), out.text);
      assert.ok(out.text.includes('[REDACTED]'));
      assert.ok(out.count >= 1);
      // Everything around the secret survives as it was.
      const [before, after] = line.split(secret);
      assert.ok(out.text.startsWith(before.slice(0, Math.max(0, before.length - 40))), out.text);
      assert.ok(out.text.endsWith(after.slice(-20)), out.text);
    });
  }

  it('keeps the name in an assignment and replaces only the value', () => {
    assert.equal(redactSecrets('password = "hunter2hunter2"').text, 'password = "[REDACTED]"');
    assert.equal(redactSecrets('  apiKey: `Xk29fLq83mZpR7wT`,').text, '  apiKey: `[REDACTED]`,');
    assert.equal(redactSecrets('Authorization: Bearer abC123def456ghi789jkl0').text, 'Authorization: Bearer [REDACTED]');
  });

  it('removes the body of a PEM private key, even one cut off before its END line', () => {
    const text = `const pem = \`${PEM}\`;\nconsole.log(pem);`;
    const out = redactSecrets(text);
    assert.ok(!out.text.includes('MIIEpAIBAAKCAQEA'));
    assert.ok(out.text.includes('-----BEGIN RSA PRIVATE KEY-----'));
    assert.ok(out.text.includes('-----END RSA PRIVATE KEY-----`;\nconsole.log(pem);'));
    const cutOff = redactSecrets(PEM.slice(0, 120));
    assert.ok(!cutOff.text.includes('MIIEpAIBAAKCAQEA'));
    assert.ok(cutOff.text.endsWith('[REDACTED]'));
  });

  it('leaves hashes, ids and ordinary code alone', () => {
    const ordinary = [
      'commit 3f786850e387550fdab836ed7e6dc881de23001b',
      '"integrity": "sha512-Z2cSbDMUxMBUcqE0ThIfZH1Bdt6omWkY9GVSEVA1yk+gJ2g6LOSaffeoy0ltyoZE+uZPAqNPbeGe6xnTdJCZSg=="',
      '"resolved": "https://registry.npmjs.org/zod/-/zod-4.1.0.tgz"',
      'const id = "123e4567-e89b-12d3-a456-426614174000";',
      'sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'const tokenizer = tokenizerFor(provider, model); let tokens = countTokens(text);',
      'password = user.password',
      'const password = await promptForPassword();',
      'const passwordLabel = "Enter your password";',
      'interface Login { password: PasswordType }',
      'apiKey: process.env.OPENAI_API_KEY,',
      "secret: ${{ secrets.NPM_TOKEN }}",
      '{ token: "constant.numeric.hex", regex: "0x[0-9a-f]+" }',
      'headers: { Authorization: `Bearer ${token}` }',
      'const authorization = req.headers.authorization;',
      'class="sk-spinner-container-large-loading"',
      'const api_key = input("API key: ")',
      'https://example.com:8080/path?q=1',
      'image: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="',
    ];
    for (const line of ordinary) {
      const out = redactSecrets(line);
      assert.equal(out.text, line);
      assert.equal(out.count, 0);
    }
  });

  it('counts every redaction and maps offsets through them', () => {
    const text = `a = "${GITHUB}"\nb = "${GOOGLE}"\nend`;
    const out = redactSecretsMapped(text);
    assert.equal(out.count, 2);
    assert.equal(out.text, 'a = "[REDACTED]"\nb = "[REDACTED]"\nend');
    assert.equal(out.text.slice(out.mapOffset(text.indexOf('end'))), 'end');
    assert.equal(out.mapOffset(text.indexOf(GITHUB) + 5), out.text.indexOf('[REDACTED]'));
    assert.deepEqual(
      out.spans.map((s) => out.text.slice(s.start, s.end)),
      ['[REDACTED]', '[REDACTED]'],
    );
  });

  it('stays linear on megabytes of hostile text', () => {
    // No timing asserted: a backtracking blow-up would hang this test, not slow it.
    const hostile = [
      'a'.repeat(1_100_000),
      `password=${'a'.repeat(5000)} `.repeat(220),
      `${'eyJ'}${'a'.repeat(5000)}.`.repeat(220),
      `://${'a'.repeat(300)}:`.repeat(3600),
      `Bearer ${'a1'.repeat(3000)}(`.repeat(200),
      `-----BEGIN PRIVATE KEY-----${'x'.repeat(100)}`.repeat(8000),
      `sk-${'aB3'.repeat(1000)} `.repeat(400),
      `Authorization: ${'b'.repeat(5000)}(`.repeat(220),
      `${'token'}${' '.repeat(7)}=${' '.repeat(7)}${'"'}${'x'.repeat(4000)}`.repeat(280),
    ];
    for (const text of hostile) {
      assert.ok(text.length > 1_000_000);
      const out = redactSecrets(text);
      assert.equal(typeof out.count, 'number');
    }
  });

  it('redacts a bearer token whatever the case of the scheme word', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEARER']) {
      assert.equal(redactSecrets(`curl -H "X-Auth: ${scheme} abC123def456ghi789jkl0"`).text, `curl -H "X-Auth: ${scheme} [REDACTED]"`);
    }
  });

  it('redacts an edited text again only around the edit, exactly as it redacts it whole, keys at line edges included', () => {
    const rnd = mulberry32(31);
    const longPem = PEM.replace(/\n(?=-----END)/, `\n${'MIIEpAIBAAKCAQEA7Qk2LmN9pR4sT1uV6wZ0aB3cD5eF8gH2iJ4kL6mN8oP0qR2s\n'.repeat(40)}`);
    const bare = [ANTHROPIC, OPENAI_PROJECT, AWS_ID, GITHUB, SLACK, GOOGLE, STRIPE, JWT];
    const secrets = [...families.map(([, line]) => line), ...bare, ...bare.map((key) => `key: ${key}`), 'x = "bEARER abC123def456ghi789jkl0"', PEM, longPem];
    const codeLine = (i: number): string => `${'  '.repeat(i % 3)}const value${i} = compute(${Math.floor(rnd() * 1e6)}, "label ${i}");`;
    // Secrets start lines (where blocks start), end them, or make them up.
    const line = (i: number): string => {
      const r = rnd();
      const secret = secrets[Math.floor(rnd() * secrets.length)];
      if (r < 0.1) return secret;
      if (r < 0.15) return `${codeLine(i)} ${secret}`;
      return codeLine(i);
    };
    const lines = (n: number): string => Array.from({ length: n }, (_, i) => line(i)).join('\n');
    const redactor = new IncrementalRedactor();
    let text = `${families[0][1]}\n${lines(800)}\n${families[1][1]}`;
    let blocked = 0;
    for (let round = 0; round < 40; round++) {
      // Half the edits land inside a key: typing into one, or cutting a piece of it out.
      const key = bare[Math.floor(rnd() * bare.length)];
      const inKey = text.indexOf(key) >= 0 && rnd() < 0.5;
      const at = inKey ? text.indexOf(key) + 1 + Math.floor(rnd() * (key.length - 2)) : Math.floor(rnd() * text.length);
      const r = rnd();
      if (inKey) text = r < 0.5 ? `${text.slice(0, at)}x${text.slice(at)}` : `${text.slice(0, at)}${text.slice(at + 1 + Math.floor(rnd() * 5))}`;
      else if (r < 0.4) text = `${text.slice(0, at)}\n${lines(1 + Math.floor(rnd() * 10))}\n${text.slice(at)}`;
      else if (r < 0.7) text = `${text.slice(0, at)}${text.slice(at + Math.floor(rnd() * 400))}`;
      else text = `${text.slice(0, at)}${secrets[Math.floor(rnd() * secrets.length)]}${text.slice(at)}`;
      if (!text.includes('PRIVATE KEY')) blocked += 1;
      const got = redactor.redact(text);
      const whole = redactSecretsMapped(text);
      assert.equal(got.text, whole.text, `round ${round}`);
      assert.equal(got.count, whole.count);
      assert.deepEqual(got.spans, whole.spans);
      for (let i = 0; i < 50; i++) {
        const o = Math.floor(rnd() * (text.length + 1));
        assert.equal(got.mapOffset(o), whole.mapOffset(o));
      }
      if (rnd() < 0.7) text = text.replace(/-----BEGIN [^]*?-----END RSA PRIVATE KEY-----/g, '');
    }
    assert.ok(blocked > 10, 'most rounds reuse what was found before');
  });

  it('keeps the body of a private key redacted through edits inside and around it', () => {
    const body = Array.from({ length: 40 }, (_, i) => `MIIEpAIBAAKCAQEA${i}Qk2LmN9pR4sT1uV6wZ0aB3cD5eF8gH2iJ4kL6mN8oP0qR2s\n`);
    const code = Array.from({ length: 300 }, (_, i) => `const value${i} = compute(${i}, "label ${i}");`).join('\n');
    const redactor = new IncrementalRedactor();
    const rnd = mulberry32(8);
    for (let round = 0; round < 20; round++) {
      const lines = body.slice();
      const i = Math.floor(rnd() * lines.length);
      if (round % 3 === 0) lines.splice(i, 1);
      else if (round % 3 === 1) lines[i] = `${lines[i].slice(0, 10)}Zz${lines[i].slice(10)}`;
      const text = `${code}\n-----BEGIN RSA PRIVATE KEY-----\n${lines.join('')}-----END RSA PRIVATE KEY-----\n${code}${round}`;
      const got = redactor.redact(text);
      assert.equal(got.text, redactSecretsMapped(text).text);
      assert.ok(!got.text.includes('MIIEpAIBAAKCAQEA'));
    }
  });

  it('replaces known key values exactly, longest first', () => {
    const line = `calling with key ${OPENAI_LEGACY} and prefix ${OPENAI_LEGACY.slice(0, 20)}`;
    assert.equal(redactKnownValues(line, [OPENAI_LEGACY.slice(0, 20), OPENAI_LEGACY]), 'calling with key [REDACTED] and prefix [REDACTED]');
    assert.equal(redactKnownValues('nothing to see', ['', '  ', 'ab']), 'nothing to see');
  });

  describe('isSecretFile', () => {
    it('recognises env files, keys and credential stores anywhere in the tree', () => {
      for (const p of ['.env', 'app/.env', 'app/.env.local', '.env.production', '.envrc', 'certs/server.pem', 'tls.key', 'home/.ssh/id_rsa', 'id_rsa.pub', 'id_ed25519', 'store.p12', '.npmrc', '.netrc', '.aws/credentials', 'credentials.json', 'C:\\proj\\.ENV', 'C:\\Users\\me\\.ssh\\id_rsa']) {
        assert.equal(isSecretFile(p), true, p);
      }
    });

    it('lets ordinary files through, including code that handles credentials', () => {
      for (const p of ['src/env.ts', 'environment.ts', 'README.md', 'keyboard.ts', 'monkey.py', 'src/auth/credentials.ts', 'package.json', '.envelope']) {
        assert.equal(isSecretFile(p), false, p);
      }
    });

    it('applies excludeFiles patterns as simple globs', () => {
      const patterns = ['*.secret', 'config/prod/**', '**/private/*.json', 'notes?.txt'];
      assert.equal(isSecretFile('a/b/c.secret', patterns), true);
      assert.equal(isSecretFile('repo/config/prod/db.yml', patterns), true);
      assert.equal(isSecretFile('config/prod/deep/x.yml', patterns), true);
      assert.equal(isSecretFile('x/private/keys.json', patterns), true);
      assert.equal(isSecretFile('private/keys.json', patterns), true);
      assert.equal(isSecretFile('notes1.txt', patterns), true);
      assert.equal(isSecretFile('config/dev/db.yml', patterns), false);
      assert.equal(isSecretFile('x/private/deep/keys.json', patterns), false);
      assert.equal(isSecretFile('notes12.txt', patterns), false);
      assert.equal(isSecretFile('a/secret.ts', patterns), false);
    });
  });
});
