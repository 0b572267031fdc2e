// The manifest's settings schema must say what the zod schema does: same defaults, so the
// Settings UI never shows a default MAOF would not use.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_ROUTES } from '../../../src/core/config/defaults';
import { RESTRICTED_SETTINGS } from '../../../src/core/config/settingsScopes';
import { breakerSchema, budgetSchema, cacheSchema, contextSchema, hedgingSchema, parseConfig, retrySchema } from '../../../src/core/config/schema';
import { ALL_COMMAND_IDS, COMMANDS, LANGUAGE_MODEL_VENDOR, PANELS, PARTICIPANT_ID, VIEW_CONTAINER_ID, VIEWS } from '../../../src/host/platform/ids';
import { WALKTHROUGH_CONTEXT, WALKTHROUGH_ID } from '../../../src/host/platform/walkthroughIds';

interface Property {
  default?: unknown;
  description?: string;
  markdownDescription?: string;
  properties?: Record<string, Property>;
}
interface Manifest {
  activationEvents: string[];
  contributes: {
    configuration: { properties: Record<string, Property> };
    commands: Array<{ command: string; title: string; category: string }>;
    menus: Record<string, Array<{ command: string; when: string }>>;
    keybindings: Array<{ command: string; key: string; mac?: string }>;
    viewsContainers: { activitybar: Array<{ id: string }> };
    views: Record<string, Array<{ id: string; type?: string }>>;
    languageModelChatProviders: Array<{ vendor: string }>;
    chatParticipants: Array<{ id: string }>;
    walkthroughs: Array<{ id: string; title: string; steps: Array<{ id: string; title: string; description: string; media: { markdown?: string; image?: string }; completionEvents: string[] }> }>;
  };
  capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] } };
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as Manifest;
const props = manifest.contributes.configuration.properties;

describe('package.json contributions', () => {
  it('gives every setting a description and a default equal to the zod default', () => {
    const zodDefaults: Record<string, unknown> = {
      'maof.retry': retrySchema.parse({}),
      'maof.breaker': breakerSchema.parse({}),
      'maof.cache': cacheSchema.parse({}),
      'maof.context': JSON.parse(JSON.stringify(contextSchema.parse({}))),
      'maof.budget': JSON.parse(JSON.stringify(budgetSchema.parse({}))),
      'maof.hedging': hedgingSchema.parse({}),
      'maof.routes': BUILTIN_ROUTES,
    };
    for (const [key, value] of Object.entries(zodDefaults)) assert.deepEqual(props[key]?.default, value, key);
    for (const [key, p] of Object.entries(props)) {
      assert.ok(p.description ?? p.markdownDescription, `${key} has a description`);
      assert.ok('default' in p, `${key} has a default`);
      for (const [sub, sp] of Object.entries(p.properties ?? {})) {
        assert.ok(sp.description, `${key}.${sub} has a description`);
        const whole = p.default as Record<string, unknown> | undefined;
        if (whole && sub in whole) assert.deepEqual(sp.default, whole[sub], `${key}.${sub} default`);
      }
    }
  });

  it('the manifest defaults parse to the built-in config without any warning', () => {
    const raw: Record<string, unknown> = {};
    for (const [key, p] of Object.entries(props)) raw[key.slice('maof.'.length)] = p.default;
    const { config, issues } = parseConfig(raw);
    assert.deepEqual(issues, []);
    assert.deepEqual(config, parseConfig({}).config);
  });

  it('puts every command in the MAOF category and keeps the inline ones out of the palette until pending', () => {
    const ids = manifest.contributes.commands.map((c) => c.command);
    for (const c of manifest.contributes.commands) assert.equal(c.category, 'MAOF', c.command);
    for (const id of ['generateCode', 'write', 'writeDocComment', 'writeCommitMessage', 'analyseSelection', 'analyseFile', 'askAgent', 'compareAgents', 'runChain', 'openChat', 'showDashboard', 'setApiKey', 'clearApiKey', 'resetBreakers', 'diagnose', 'exportUsage']) {
      assert.ok(ids.includes(`maof.${id}`), id);
    }
    const palette = manifest.contributes.menus.commandPalette;
    assert.equal(palette.find((m) => m.command === 'maof.acceptInline')?.when, 'maof.inlinePending');
    assert.equal(palette.find((m) => m.command === 'maof.rejectInline')?.when, 'maof.inlinePending');
    const gen = manifest.contributes.keybindings.find((k) => k.command === 'maof.generateCode');
    assert.equal(gen?.key, 'ctrl+alt+g');
    assert.equal(gen?.mac, 'cmd+alt+g');
  });

  it('contributes exactly the ids the extension registers and runs (src/host/platform/ids.ts)', () => {
    // The entry point registers a placeholder for each of ALL_COMMAND_IDS: one missing here would
    // run nowhere, one more there would be a command VS Code never shows.
    assert.deepEqual(manifest.contributes.commands.map((c) => c.command), [...ALL_COMMAND_IDS]);
    assert.deepEqual(ALL_COMMAND_IDS, Object.values(COMMANDS));
    const known = new Set<string>(ALL_COMMAND_IDS);
    for (const [menu, items] of Object.entries(manifest.contributes.menus)) for (const item of items) assert.ok(known.has(item.command), `${menu}: ${item.command}`);
    for (const k of manifest.contributes.keybindings) assert.ok(known.has(k.command), `keybinding ${k.command}`);
    assert.deepEqual(manifest.contributes.viewsContainers.activitybar.map((c) => c.id), [VIEW_CONTAINER_ID]);
    assert.deepEqual(manifest.contributes.views[VIEW_CONTAINER_ID]?.map((v) => v.id), Object.values(VIEWS));
    assert.ok(manifest.activationEvents.includes(`onWebviewPanel:${PANELS.dashboard}`), 'a dashboard left open is restored after a reload');
    assert.deepEqual(manifest.contributes.languageModelChatProviders.map((p) => p.vendor), [LANGUAGE_MODEL_VENDOR]);
    assert.deepEqual(manifest.contributes.chatParticipants.map((p) => p.id), [PARTICIPANT_ID]);
  });

  it('contributes the chat view and limits what an untrusted workspace may configure', () => {
    assert.deepEqual(manifest.contributes.views.maof?.map((v) => [v.id, v.type]), [['maof.chatView', 'webview']]);
    const trust = manifest.capabilities.untrustedWorkspaces;
    assert.equal(trust.supported, 'limited');
    assert.ok(trust.restrictedConfigurations.includes('maof.agents'), 'a workspace cannot redirect keys to another endpoint');
    assert.deepEqual([...trust.restrictedConfigurations].sort(), RESTRICTED_SETTINGS.map((k) => `maof.${k}`).sort(), 'the host ignores exactly what the manifest declares');
  });

  it('has a Getting Started walkthrough whose steps complete on what the user did, with media that ships', () => {
    const root = join(__dirname, '..', '..', '..');
    const [walkthrough, ...others] = manifest.contributes.walkthroughs;
    assert.equal(others.length, 0);
    assert.equal(walkthrough?.id, WALKTHROUGH_ID);
    assert.deepEqual(walkthrough.steps.map((s) => s.id), ['connect', 'generate', 'chat', 'dashboard', 'nativeChat']);
    const commands = new Set(manifest.contributes.commands.map((c) => c.command));
    // Context keys the extension sets: the walkthrough's own and inline generation's pending proposal.
    const contexts = new Set<string>([...Object.values(WALKTHROUGH_CONTEXT), 'maof.inlinePending']);
    const source = (file: string): string => readFileSync(join(root, 'src', 'host', file), 'utf8');
    assert.match(source('inline/inlinePreview.ts'), /PENDING_CONTEXT_KEY = 'maof\.inlinePending'/);
    assert.match(source('chat/chatView.ts'), /markChatAnswered\(\)/, 'the chat marks its step done');
    const shipped = readFileSync(join(root, '.vscodeignore'), 'utf8').split('\n');
    assert.ok(shipped.includes('!media/**'), 'media/ goes into the VSIX');
    for (const step of walkthrough.steps) {
      assert.ok(step.completionEvents.length > 0, `${step.id} completes on something`);
      for (const event of step.completionEvents) {
        const [kind, name] = [event.slice(0, event.indexOf(':')), event.slice(event.indexOf(':') + 1)];
        if (kind === 'onCommand') assert.ok(commands.has(name), `${step.id}: ${name} is a MAOF command`);
        else assert.ok(kind === 'onContext' && contexts.has(name), `${step.id}: ${event} is a context MAOF sets`);
      }
      for (const [, command] of step.description.matchAll(/\]\(command:([\w.]+)/g)) {
        assert.ok(command && (commands.has(command) || command.startsWith('workbench.')), `${step.id}: button runs ${command}`);
      }
      const media = step.media.markdown ?? step.media.image;
      assert.ok(media && existsSync(join(root, media)), `${step.id}: ${media} exists`);
      assert.ok(media.startsWith('media/'), `${step.id}: ${media} is under media/`);
    }
  });

  it('the walkthrough\'s local-model example is valid settings that route every task to it', () => {
    const text = readFileSync(join(__dirname, '..', '..', '..', 'media', 'walkthrough', 'connect.md'), 'utf8');
    const block = /```json\n([\s\S]*?)```/.exec(text)?.[1];
    assert.ok(block);
    const settings = JSON.parse(`{${block}}`) as Record<string, unknown>;
    const { config, issues } = parseConfig({ agents: settings['maof.agents'], routes: settings['maof.routes'] });
    assert.deepEqual(issues, []);
    for (const task of ['code', 'writing', 'analysis']) assert.deepEqual(config.routes[task], ['local'], task);
  });
});
