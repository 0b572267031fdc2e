// The Write commands: a doc comment for the symbol at the cursor, prose on the selection (both as
// inline proposals to accept or reject) and a commit message from the Git diff into the SCM box.
import * as vscode from 'vscode';
import { type InlinePreview } from './inlinePreview';
import { blockedByPending, runInline, type InlineOutcome } from './inlineGeneration';
import { promptArgument } from '../platform/commandArgs';
import { indentComment, joinContinuation, stripWholeFence } from './inlineText';
import { withRequestProgress } from '../platform/requestProgress';
import type { MaofServices } from '../platform/services';
import { userTurn } from '../../core/types';
import { COMMANDS } from '../platform/ids';

const DOCUMENTABLE = new Set([
  vscode.SymbolKind.Function,
  vscode.SymbolKind.Method,
  vscode.SymbolKind.Class,
  vscode.SymbolKind.Interface,
  vscode.SymbolKind.Constructor,
  vscode.SymbolKind.Enum,
  vscode.SymbolKind.Struct,
  vscode.SymbolKind.Module,
  vscode.SymbolKind.Property,
  vscode.SymbolKind.Field,
  vscode.SymbolKind.Variable,
  vscode.SymbolKind.Constant,
]);

const MAX_BLOCK_LINES = 60;
const MAX_DIFF_CHARS = 120_000;

interface SymbolTarget {
  range: vscode.Range;
  name: string;
  kind: string;
}

function isDocumentSymbol(s: vscode.DocumentSymbol | vscode.SymbolInformation): s is vscode.DocumentSymbol {
  return 'range' in s && 'children' in s;
}

/** The innermost documentable symbol around the cursor, from the language's symbol provider. */
export async function symbolAt(doc: vscode.TextDocument, pos: vscode.Position): Promise<SymbolTarget | undefined> {
  let symbols: Array<vscode.DocumentSymbol | vscode.SymbolInformation> | undefined;
  try {
    symbols = await vscode.commands.executeCommand<Array<vscode.DocumentSymbol | vscode.SymbolInformation> | undefined>('vscode.executeDocumentSymbolProvider', doc.uri);
  } catch {
    return undefined;
  }
  if (!symbols || symbols.length === 0) return undefined;
  let best: SymbolTarget | undefined;
  const visit = (list: Array<vscode.DocumentSymbol | vscode.SymbolInformation>): void => {
    for (const s of list) {
      const range = isDocumentSymbol(s) ? s.range : s.location.range;
      if (!range.contains(pos)) continue;
      if (DOCUMENTABLE.has(s.kind)) best = { range, name: s.name, kind: vscode.SymbolKind[s.kind].toLowerCase() };
      if (isDocumentSymbol(s)) visit(s.children);
    }
  };
  visit(symbols);
  return best;
}

/** Without a symbol provider: the cursor line and what follows it up to a blank line. */
export function blockAt(doc: vscode.TextDocument, line: number): vscode.Range {
  let end = line;
  while (end + 1 < doc.lineCount && end - line < MAX_BLOCK_LINES && !doc.lineAt(end + 1).isEmptyOrWhitespace) end++;
  return new vscode.Range(line, 0, end, doc.lineAt(end).text.length);
}

async function writeDocComment(services: MaofServices, preview: InlinePreview): Promise<InlineOutcome> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('MAOF: put the cursor in the function, class or method to document.');
    return { status: 'dismissed' };
  }
  if (await blockedByPending(preview)) return { status: 'dismissed' };
  const doc = editor.document;
  const symbol = await symbolAt(doc, editor.selection.active);
  const target = symbol?.range ?? blockAt(doc, editor.selection.active.line);
  const line = target.start.line;
  const indent = /^[ \t]*/.exec(doc.lineAt(line).text)![0];
  const what = symbol ? `the ${symbol.kind} \`${symbol.name}\`` : 'the code';
  const prompt = [
    `Write a documentation comment for ${what} below (${doc.languageId}, from ${vscode.workspace.asRelativePath(doc.uri, false)}).`,
    `Use the idiomatic doc comment style for ${doc.languageId} that goes directly above the declaration (e.g. /** … */ JSDoc/TSDoc for TypeScript and JavaScript, /// for C# and Rust, # lines for Python and shell).`,
    'Say what it does, its parameters and its return value, briefly. Reply with only the comment — no code and no markdown fence.',
    '',
    doc.getText(target),
  ].join('\n');
  const at = new vscode.Position(line, 0);
  return runInline(services, preview, {
    editor,
    range: new vscode.Range(at, at),
    prompt,
    task: 'writing',
    title: 'MAOF',
    verb: 'Writing',
    shape: (answer) => indentComment(answer, indent),
  });
}

interface WriteMode {
  label: string;
  detail: string;
  id: 'rewrite' | 'continue' | 'shorten' | 'proofread' | 'custom';
}

const WRITE_MODES: WriteMode[] = [
  { id: 'rewrite', label: '$(edit) Rewrite', detail: 'Clearer and more concise, same meaning' },
  { id: 'continue', label: '$(arrow-right) Continue', detail: 'Write what comes next after the selection' },
  { id: 'shorten', label: '$(fold) Shorten', detail: 'About half the length' },
  { id: 'proofread', label: '$(check) Fix spelling and grammar', detail: 'Only corrections, nothing else changes' },
  { id: 'custom', label: '$(comment) Custom instruction…', detail: 'Tell MAOF what to do with the text' },
];

function modeArgument(args: unknown): WriteMode['id'] | undefined {
  if (typeof args !== 'object' || args === null) return undefined;
  const mode = (args as { mode?: unknown }).mode;
  return WRITE_MODES.find((m) => m.id === mode)?.id;
}

async function write(services: MaofServices, preview: InlinePreview, args: unknown): Promise<InlineOutcome> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('MAOF: open a document and select the text to work on, or place the cursor where to write.');
    return { status: 'dismissed' };
  }
  if (await blockedByPending(preview)) return { status: 'dismissed' };
  const doc = editor.document;
  const selection = editor.selection;
  const rules = 'Reply with only the text — no preamble, no quotes and no markdown fence. Match the language, tone and formatting of the original.';

  if (selection.isEmpty) {
    const instruction =
      promptArgument(args) ??
      (await vscode.window.showInputBox({ title: 'MAOF: Write…', prompt: 'What should MAOF write at the cursor?', placeHolder: 'e.g. a short README section on installing the extension', ignoreFocusOut: true }));
    if (!instruction?.trim()) return { status: 'dismissed' };
    const context = await services.collectContext({ includeSelection: false });
    return runInline(services, preview, {
      editor,
      range: new vscode.Range(selection.active, selection.active),
      prompt: `Write the following, to be inserted at the cursor in ${vscode.workspace.asRelativePath(doc.uri, false)}: ${instruction.trim()}\n${rules}`,
      task: 'writing',
      context,
      title: 'MAOF',
      verb: 'Writing',
      shape: (a) => stripWholeFence(a),
    });
  }

  let mode = modeArgument(args);
  if (!mode) {
    const picked = await vscode.window.showQuickPick(WRITE_MODES, { title: 'MAOF: Write… — what to do with the selection?', ignoreFocusOut: true });
    if (!picked) return { status: 'dismissed' };
    mode = picked.id;
  }
  let instruction: string | undefined;
  switch (mode) {
    case 'rewrite':
      instruction = 'Rewrite the text to be clearer and more concise without changing its meaning.';
      break;
    case 'continue':
      instruction = 'Continue the text: write the next paragraph or sentences that naturally follow. Reply with the continuation only, not the original.';
      break;
    case 'shorten':
      instruction = 'Shorten the text to about half its length, keeping every important point.';
      break;
    case 'proofread':
      instruction = 'Fix spelling, grammar and punctuation only; change nothing else.';
      break;
    case 'custom':
      instruction = promptArgument(args) ?? (await vscode.window.showInputBox({ title: 'MAOF: Write…', prompt: 'What should MAOF do with the selected text?', placeHolder: 'e.g. make it friendlier', ignoreFocusOut: true }));
      break;
  }
  if (!instruction?.trim()) return { status: 'dismissed' };
  const text = doc.getText(selection);
  const range = mode === 'continue' ? new vscode.Range(selection.end, selection.end) : new vscode.Range(selection.start, selection.end);
  return runInline(services, preview, {
    editor,
    range,
    prompt: `${instruction.trim()}\n${rules}\n\nText:\n${text}`,
    task: 'writing',
    title: 'MAOF',
    verb: 'Writing',
    shape: (a) => (mode === 'continue' ? joinContinuation(text, stripWholeFence(a)) : stripWholeFence(a)),
  });
}

// ---- commit message -----------------------------------------------------------------------------

interface GitInputBox {
  value: string;
}
interface GitRepository {
  readonly rootUri: vscode.Uri;
  readonly inputBox: GitInputBox;
  diff(cached?: boolean): Promise<string>;
}
interface GitApi {
  readonly repositories: GitRepository[];
}
interface GitExtension {
  readonly enabled?: boolean;
  getAPI(version: 1): GitApi;
}

async function gitApi(): Promise<GitApi | undefined> {
  const ext = vscode.extensions.getExtension<GitExtension>('vscode.git');
  if (!ext) return undefined;
  try {
    const exports = ext.isActive ? ext.exports : await ext.activate();
    if (exports.enabled === false) return undefined;
    return exports.getAPI(1);
  } catch {
    return undefined;
  }
}

async function pickRepository(api: GitApi, args: unknown): Promise<GitRepository | undefined> {
  const repos = api.repositories;
  if (repos.length <= 1) return repos[0];
  // From the SCM title bar the argument is the source control, which carries its root.
  const root = typeof args === 'object' && args !== null && 'rootUri' in args ? (args as { rootUri?: unknown }).rootUri : undefined;
  if (root instanceof vscode.Uri) {
    const match = repos.find((r) => r.rootUri.toString() === root.toString());
    if (match) return match;
  }
  const active = vscode.window.activeTextEditor?.document.uri.fsPath;
  if (active) {
    const containing = repos.filter((r) => active.startsWith(r.rootUri.fsPath)).sort((a, b) => b.rootUri.fsPath.length - a.rootUri.fsPath.length);
    if (containing[0]) return containing[0];
  }
  const picked = await vscode.window.showQuickPick(
    repos.map((r) => ({ label: vscode.workspace.asRelativePath(r.rootUri, true) || r.rootUri.fsPath, repo: r })),
    { title: 'MAOF: Write Commit Message — which repository?' },
  );
  return picked?.repo;
}

async function writeCommitMessage(services: MaofServices, args: unknown): Promise<boolean> {
  const api = await gitApi();
  if (!api) {
    void vscode.window.showWarningMessage('MAOF: the built-in Git extension is not available, so there is no diff to describe. Enable "Git" (vscode.git) and open a repository.');
    return false;
  }
  if (api.repositories.length === 0) {
    void vscode.window.showInformationMessage('MAOF: no Git repository is open in this window.');
    return false;
  }
  const repo = await pickRepository(api, args);
  if (!repo) return false;
  let which = 'staged';
  let diff = await repo.diff(true);
  if (!diff.trim()) {
    which = 'unstaged';
    diff = await repo.diff();
  }
  if (!diff.trim()) {
    void vscode.window.showInformationMessage('MAOF: there are no changes to describe — change or stage some files first.');
    return false;
  }
  const truncated = diff.length > MAX_DIFF_CHARS;
  const body = truncated ? `${diff.slice(0, MAX_DIFF_CHARS)}\n… (diff truncated)` : diff;
  const prompt = [
    `Write a git commit message for these ${which} changes.`,
    'Subject line in the imperative mood, at most 72 characters; then, if useful, a blank line and a short body saying what changed and why.',
    'Reply with only the commit message — no markdown fence, no quotes.',
    '',
    body,
  ].join('\n');
  const result = await withRequestProgress({ title: 'MAOF', verb: 'Writing the commit message', events: services.core.events }, (run) =>
    services.core.run({ messages: [userTurn(prompt)], task: 'writing', signal: run.signal, requestId: run.requestId, structured: false, source: 'commands' }),
  );
  if (!result.ok) {
    await services.showError(result.error);
    return false;
  }
  const message = stripWholeFence(result.text);
  const current = repo.inputBox.value.trim();
  if (current && current !== message) {
    const choice = await vscode.window.showWarningMessage('MAOF: replace the commit message you already typed?', 'Replace', 'Keep Mine');
    if (choice !== 'Replace') return false;
  }
  repo.inputBox.value = message;
  void vscode.commands.executeCommand('workbench.view.scm');
  vscode.window.setStatusBarMessage(`$(git-commit) MAOF wrote the commit message for the ${which} changes (${result.agentId})`, 5000);
  return true;
}

export function registerWriteCommands(services: MaofServices, preview: InlinePreview): vscode.Disposable {
  return vscode.Disposable.from(
    services.registry.registerCommand(COMMANDS.writeDocComment, () => writeDocComment(services, preview)),
    services.registry.registerCommand(COMMANDS.write, (args: unknown) => write(services, preview, args)),
    services.registry.registerCommand(COMMANDS.writeCommitMessage, (args: unknown) => writeCommitMessage(services, args)),
  );
}
