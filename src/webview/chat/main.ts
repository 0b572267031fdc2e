// The chat webview: agent selector, conversation with streamed markdown answers, per-answer agent,
// cost and retries, code blocks with Copy / Insert / Apply, and a composer (Enter sends,
// Shift+Enter adds a line, Escape stops). The host owns the history; this page only shows it.
import type { ChatAgentInfo, ChatErrorInfo, ChatHistoryMessage, ChatMeta, ChatWait, ChatHostMessage, ChatHostMessageOf, ChatWebviewMessage } from '../../shared/chatProtocol';
import { MAX_PROMPT_CHARS } from '../../shared/protocolLimits';
import { ESTIMATED_COST_TITLE, formatCost, formatDuration, formatUsd, plural } from '../../shared/format';
import { el, onHostMessage, vscodeApi } from '../vscodeApi';
import { agentNote, agentSuffix } from './agentNote';
import { fixButton } from './errorFix';
import { highlightCodeBlocks } from './highlight';
import { codeLanguage, renderMarkdown } from './markdown';

interface PageState {
  draft: string;
  scrollTop?: number;
  atBottom: boolean;
}

interface Status {
  text: string;
  /** Date.now() when the countdown in the text reaches zero. */
  until?: number;
  wait?: ChatWait;
}

interface View {
  message: ChatHistoryMessage;
  root: HTMLElement;
  body: HTMLElement;
  status: HTMLElement;
  statusText: HTMLElement;
  statusActions: HTMLElement;
  footer: HTMLElement;
  statusLine?: Status;
  renderQueued: boolean;
}

const api = vscodeApi<PageState, ChatWebviewMessage>();
const saved: PageState = api.getState() ?? { draft: '', atBottom: true };

let sessionId = '';
let agents: ChatAgentInfo[] = [];
let selectedAgent = 'auto';
let includeContext = true;
let lastSent = '';
const views = new Map<string, View>();

// ---- layout -------------------------------------------------------------------------------------

const root = document.getElementById('root') ?? document.body;
root.replaceChildren();

const agentSelect = el('select', { attrs: { id: 'agent', 'aria-label': 'Agent' } });
const contextBox = el('input', { attrs: { id: 'context', type: 'checkbox' } });
const newChat = el('button', { className: 'icon-button', text: 'New chat', attrs: { type: 'button', title: 'Start a new conversation', 'aria-label': 'Start a new conversation' } });
const noteBar = el('div', { className: 'agent-note', attrs: { hidden: '' } });
const header = el(
  'header',
  { className: 'toolbar' },
  el('label', { className: 'agent-label', attrs: { for: 'agent' } }, 'Agent'),
  agentSelect,
  el('label', { className: 'context-label', attrs: { title: 'Send the selection and open editors with the question' } }, contextBox, ' Editor context'),
  newChat,
);

const log = el('main', { className: 'log', attrs: { role: 'log', 'aria-label': 'Conversation', tabindex: '0' } });
const emptyState = el(
  'div',
  { className: 'empty' },
  el('p', { className: 'empty-title', text: 'Ask MAOF' }),
  el('p', { text: 'Questions go to the agent best suited to them — or pick one above. Retries, fallbacks and cost show under each answer.' }),
  el('p', { className: 'hint', text: 'Enter sends · Shift+Enter adds a line · Escape stops' }),
);
const announcer = el('div', { className: 'sr-only', attrs: { 'aria-live': 'polite', role: 'status' } });
const notice = el('div', { className: 'notice', attrs: { role: 'status', 'aria-live': 'polite', hidden: '' } });

const prompt = el('textarea', {
  attrs: { id: 'prompt', rows: '3', 'aria-label': 'Message to the agent', placeholder: 'Ask anything… (Enter to send, Shift+Enter for a new line)' },
});
const counter = el('span', { className: 'counter', attrs: { 'aria-live': 'polite' } });
const stopButton = el('button', { className: 'secondary', text: 'Stop', attrs: { type: 'button', 'aria-label': 'Stop the answer (Escape)', hidden: '' } });
const sendButton = el('button', { className: 'primary', text: 'Send', attrs: { type: 'button', 'aria-label': 'Send (Enter)' } });
const composer = el('footer', { className: 'composer' }, prompt, el('div', { className: 'composer-actions' }, counter, stopButton, sendButton));

root.append(header, noteBar, log, notice, composer, announcer);
prompt.value = saved.draft;

// ---- helpers ------------------------------------------------------------------------------------

function saveState(): void {
  api.setState({ draft: prompt.value, scrollTop: log.scrollTop, atBottom: isAtBottom() });
}

function isAtBottom(): boolean {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
}

function scrollToBottomIf(stick: boolean): void {
  if (stick) log.scrollTop = log.scrollHeight;
}

function announce(text: string): void {
  announcer.textContent = text;
}

let noticeTimer: ReturnType<typeof setTimeout> | undefined;
function showNotice(text: string, kind: 'info' | 'error'): void {
  notice.textContent = text;
  notice.className = `notice ${kind}`;
  notice.hidden = false;
  if (noticeTimer) clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    notice.hidden = true;
  }, kind === 'error' ? 6000 : 3000);
}

function pendingIds(): string[] {
  return [...views.values()].filter((v) => v.message.pending).map((v) => v.message.id);
}

function updateComposer(): void {
  const pending = pendingIds().length > 0;
  stopButton.hidden = !pending;
  sendButton.disabled = pending || prompt.value.trim() === '';
  const n = prompt.value.length;
  if (n > MAX_PROMPT_CHARS) {
    counter.textContent = `${n.toLocaleString('en-US')} / ${MAX_PROMPT_CHARS.toLocaleString('en-US')} characters — too long to send`;
    counter.className = 'counter over';
    sendButton.disabled = true;
  } else if (n > MAX_PROMPT_CHARS * 0.9) {
    counter.textContent = `${n.toLocaleString('en-US')} / ${MAX_PROMPT_CHARS.toLocaleString('en-US')}`;
    counter.className = 'counter';
  } else {
    counter.textContent = '';
  }
  emptyState.hidden = views.size > 0;
}

// ---- agents -------------------------------------------------------------------------------------

function renderAgents(): void {
  const options = [el('option', { text: 'Auto — best agent per task', attrs: { value: 'auto' } })];
  for (const a of agents) {
    const option = el('option', { text: `${a.label}${agentSuffix(a)}`, attrs: { value: a.id } });
    if (a.description) option.title = a.description;
    options.push(option);
  }
  agentSelect.replaceChildren(...options);
  agentSelect.value = agents.some((a) => a.id === selectedAgent) ? selectedAgent : 'auto';
  contextBox.checked = includeContext;
  renderAgentNote();
}

function renderAgentNote(): void {
  const note = agentNote(agents, agentSelect.value);
  noteBar.hidden = note === undefined;
  noteBar.replaceChildren();
  if (!note) return;
  noteBar.append(el('span', { text: note.text }));
  const act = note.action;
  if (act) {
    const b = el('button', { className: 'link-button', text: act.label, attrs: { type: 'button' } });
    b.addEventListener('click', () => api.postMessage({ type: 'chat/action', action: act.action }));
    noteBar.append(b);
  }
}

// ---- messages -----------------------------------------------------------------------------------

function metaChips(meta: ChatMeta): HTMLElement[] {
  const chips: HTMLElement[] = [];
  const chip = (text: string, cls = '', title = ''): void => {
    const c = el('span', { className: `chip ${cls}`.trim(), text });
    if (title) c.title = title;
    chips.push(c);
  };
  chip(meta.agentId, 'agent', `Model ${meta.model}${meta.task ? ` · task ${meta.task}` : ''}`);
  if (meta.model !== meta.agentId) chip(meta.model, 'model');
  chip(formatCost(meta.costUsd, meta.costEstimated), 'cost', meta.costEstimated ? ESTIMATED_COST_TITLE : 'Cost of this answer');
  chip(formatDuration(meta.durationMs), 'duration', 'Time to the full answer');
  if (meta.retries > 0) chip(plural(meta.retries, 'retry', 'retries'), 'warn', `${plural(meta.attempts, 'attempt')} in all${meta.attemptLog ? `:\n${meta.attemptLog.join('\n')}` : ''}`);
  if (meta.fallbacks > 0) chip(plural(meta.fallbacks, 'fallback'), 'warn', 'Moved on to the next agent of the route');
  if (meta.cached) chip('cached', 'badge', 'Answered from MAOF\'s response cache at no cost');
  if (meta.promptCacheSavedUsd !== undefined && meta.promptCacheSavedUsd > 0) {
    chip(`prompt cache saved ${formatUsd(meta.promptCacheSavedUsd)}`, 'badge', `The provider read ${(meta.promptCachedTokens ?? 0).toLocaleString('en-US')} input tokens from its prompt cache, at a discount`);
  }
  if (meta.pruned && (meta.pruned.dropped.length > 0 || meta.pruned.truncated.length > 0)) {
    const parts = [
      meta.pruned.dropped.length > 0 ? `left out: ${meta.pruned.dropped.join(', ')}` : '',
      meta.pruned.truncated.length > 0 ? `shortened: ${meta.pruned.truncated.join(', ')}` : '',
    ].filter(Boolean);
    chip('context trimmed', '', parts.join('; '));
  }
  return chips;
}

function errorBlock(error: ChatErrorInfo): HTMLElement {
  if (error.code === 'CANCELLED') return el('div', { className: 'stopped', text: error.message || 'Stopped.' });
  const block = el('div', { className: 'error', attrs: { role: 'alert' } }, el('span', { className: 'error-text', text: error.message }));
  const fix = fixButton(error);
  if (fix) {
    const b = el('button', { className: 'link-button', text: fix.label, attrs: { type: 'button' } });
    b.addEventListener('click', () => api.postMessage({ type: 'chat/action', action: fix.action }));
    block.append(b);
  }
  return block;
}

function renderFooter(v: View): void {
  v.footer.replaceChildren();
  const m = v.message;
  if (m.meta) v.footer.append(el('div', { className: 'meta' }, ...metaChips(m.meta)));
  if (m.error) v.footer.append(errorBlock(m.error));
  if (m.truncated) v.footer.append(el('div', { className: 'hint', text: 'This message was shortened when it was saved.' }));
}

function decorateCodeBlocks(body: HTMLElement): void {
  for (const pre of body.querySelectorAll('pre')) {
    if (pre.parentElement?.classList.contains('code-block')) continue;
    const code = pre.querySelector('code');
    const lang = code ? codeLanguage(code) : undefined;
    const bar = el('div', { className: 'code-toolbar' }, el('span', { className: 'code-lang', text: lang ?? '' }));
    for (const [action, label, title] of [
      ['copy', 'Copy', 'Copy the code'],
      ['insert', 'Insert', 'Insert the code at the cursor'],
      ['apply', 'Apply', 'Replace the selection with the code (or insert it at the cursor)'],
    ] as const) {
      bar.append(el('button', { className: 'code-action', text: label, attrs: { type: 'button', 'data-action': action, title, 'aria-label': title } }));
    }
    const wrapper = el('div', { className: 'code-block' });
    pre.replaceWith(wrapper);
    wrapper.append(bar, pre);
  }
}

function renderBody(v: View): void {
  const m = v.message;
  if (m.role === 'user') {
    v.body.textContent = m.content;
    return;
  }
  if (m.content === '') {
    v.body.replaceChildren();
    if (m.pending) v.body.append(el('span', { className: 'typing', attrs: { 'aria-hidden': 'true' } }, el('span'), el('span'), el('span')));
    return;
  }
  v.body.innerHTML = renderMarkdown(m.content);
  decorateCodeBlocks(v.body);
  highlightCodeBlocks(v.body, () => scheduleRender(v));
}

function renderStatus(v: View): void {
  const s = v.statusLine;
  if (!v.message.pending || !s) {
    v.status.hidden = true;
    v.statusText.textContent = '';
    v.statusActions.replaceChildren();
    return;
  }
  v.status.hidden = false;
  let text = s.text;
  if (s.until !== undefined) {
    const left = Math.max(0, Math.ceil((s.until - Date.now()) / 1000));
    text = text.replace(/\bin \d+ s\b/, `in ${left} s`);
  }
  v.statusText.textContent = text;
}

/** A waiting answer offers to try the agent now (not for a budget wait) or to ask another agent. */
function renderWaitActions(v: View, messageId: string, wait: ChatWait | undefined): void {
  v.statusActions.replaceChildren();
  if (!wait) return;
  const button = (label: string, title: string, action: 'retryNow' | 'switchAgent'): HTMLElement => {
    const b = el('button', { className: 'link-button', text: label, attrs: { type: 'button', title, 'data-wait-action': action } });
    b.addEventListener('click', () => api.postMessage({ type: 'chat/waitAction', messageId, action }));
    return b;
  };
  if (wait.reason !== 'budget') v.statusActions.append(button('Retry now', `Try ${wait.agentId ?? 'the agent'} now instead of waiting`, 'retryNow'));
  v.statusActions.append(button('Switch agent', 'Stop waiting and ask another agent', 'switchAgent'));
}

function scheduleRender(v: View): void {
  if (v.renderQueued) return;
  v.renderQueued = true;
  requestAnimationFrame(() => {
    v.renderQueued = false;
    const stick = isAtBottom();
    renderBody(v);
    scrollToBottomIf(stick);
  });
}

function addMessage(message: ChatHistoryMessage): View {
  const existing = views.get(message.id);
  if (existing) existing.root.remove();
  const who = message.role === 'user' ? 'You' : message.meta?.agentId ?? (message.requestedAgent && message.requestedAgent !== 'auto' ? message.requestedAgent : 'MAOF');
  const head = el('div', { className: 'msg-head' }, el('span', { className: 'who', text: who }));
  const body = el('div', { className: 'msg-body' });
  const statusText = el('span', { className: 'msg-status-text' });
  const statusActions = el('span', { className: 'msg-status-actions' });
  const status = el('div', { className: 'msg-status', attrs: { hidden: '' } }, statusText, statusActions);
  const footer = el('div', { className: 'msg-footer' });
  const rootEl = el('article', { className: `msg ${message.role}`, attrs: { 'aria-label': message.role === 'user' ? 'Your message' : `Answer from ${who}` } }, head, body, status, footer);
  const v: View = { message: { ...message }, root: rootEl, body, status, statusText, statusActions, footer, renderQueued: false };
  views.set(message.id, v);
  log.append(rootEl);
  renderBody(v);
  renderStatus(v);
  renderFooter(v);
  return v;
}

function setWho(v: View, who: string): void {
  const span = v.root.querySelector('.who');
  if (span) span.textContent = who;
  v.root.setAttribute('aria-label', `Answer from ${who}`);
}

function renderHistory(history: ChatHistoryMessage[]): void {
  views.clear();
  log.replaceChildren(emptyState);
  for (const m of history) addMessage(m);
  updateComposer();
}

// ---- host messages ------------------------------------------------------------------------------

function onStream(msg: ChatHostMessageOf<'chat/stream'>): void {
  const v = views.get(msg.messageId);
  if (!v) return;
  if (!msg.done) {
    v.message.content += msg.content;
    // Text is arriving: "Asking…" or a finished wait no longer says anything.
    if (v.statusLine) {
      v.statusLine = undefined;
      renderStatus(v);
    }
    scheduleRender(v);
    return;
  }
  v.message.pending = false;
  v.statusLine = undefined;
  if ('meta' in msg) {
    v.message.meta = msg.meta;
    if (msg.text !== undefined) v.message.content = msg.text;
    setWho(v, msg.meta.agentId);
    announce(`Answer from ${msg.meta.agentId} complete, ${msg.meta.costEstimated ? 'about ' : ''}${formatUsd(msg.meta.costUsd)}.`);
  } else {
    v.message.error = msg.error;
    announce(msg.error.code === 'CANCELLED' ? 'Stopped.' : `Error: ${msg.error.message}`);
  }
  const stick = isAtBottom();
  renderBody(v);
  renderStatus(v);
  renderFooter(v);
  scrollToBottomIf(stick);
  updateComposer();
}

function handle(msg: ChatHostMessage): void {
  switch (msg.type) {
    case 'chat/state': {
      sessionId = msg.sessionId;
      agents = msg.agents;
      selectedAgent = msg.selectedAgent;
      includeContext = msg.includeContext;
      renderAgents();
      if (msg.history) {
        renderHistory(msg.history);
        if (saved.atBottom || saved.scrollTop === undefined) log.scrollTop = log.scrollHeight;
        else log.scrollTop = saved.scrollTop;
      }
      return;
    }
    case 'chat/append': {
      const stick = isAtBottom();
      for (const m of msg.messages) {
        addMessage(m);
        // A refused message comes back as a lone error: give the user their text back.
        if (m.role === 'assistant' && m.error?.code === 'BAD_REQUEST' && prompt.value === '' && lastSent) {
          prompt.value = lastSent;
          saveState();
        }
        if (m.role === 'user') lastSent = '';
      }
      scrollToBottomIf(stick || msg.messages.some((m) => m.role === 'user'));
      updateComposer();
      return;
    }
    case 'chat/stream':
      onStream(msg);
      return;
    case 'chat/restart': {
      const v = views.get(msg.messageId);
      if (!v) return;
      v.message.content = '';
      if (msg.agentId) setWho(v, msg.agentId);
      renderBody(v);
      return;
    }
    case 'chat/status': {
      const v = views.get(msg.messageId);
      if (!v) return;
      v.statusLine = { text: msg.text, until: msg.waitMs !== undefined ? Date.now() + msg.waitMs : undefined, wait: msg.wait };
      renderWaitActions(v, msg.messageId, msg.wait);
      renderStatus(v);
      if (msg.text) announce(msg.text);
      return;
    }
    case 'chat/notice':
      showNotice(msg.text, msg.kind);
      return;
    default:
      return;
  }
}

// ---- user input ---------------------------------------------------------------------------------

function send(): void {
  const text = prompt.value;
  if (text.trim() === '' || pendingIds().length > 0) return;
  if (text.length > MAX_PROMPT_CHARS) {
    showNotice(`Your message is ${text.length.toLocaleString('en-US')} characters; the limit is ${MAX_PROMPT_CHARS.toLocaleString('en-US')}.`, 'error');
    return;
  }
  lastSent = text;
  api.postMessage({ type: 'chat/send', sessionId, prompt: text, agentId: agentSelect.value || 'auto', includeContext: contextBox.checked });
  prompt.value = '';
  saveState();
  updateComposer();
}

function stop(): void {
  for (const id of pendingIds()) api.postMessage({ type: 'chat/stop', messageId: id });
}

prompt.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  }
});
prompt.addEventListener('input', () => {
  saveState();
  updateComposer();
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && pendingIds().length > 0) {
    e.preventDefault();
    stop();
  }
});
sendButton.addEventListener('click', send);
stopButton.addEventListener('click', stop);
newChat.addEventListener('click', () => {
  api.postMessage({ type: 'chat/clear' });
  prompt.focus();
});
agentSelect.addEventListener('change', () => {
  selectedAgent = agentSelect.value;
  renderAgentNote();
  api.postMessage({ type: 'chat/setAgent', agentId: selectedAgent, includeContext: contextBox.checked });
});
contextBox.addEventListener('change', () => {
  includeContext = contextBox.checked;
  api.postMessage({ type: 'chat/setAgent', agentId: agentSelect.value || 'auto', includeContext });
});
// Where the user left the scroll position decides whether new content and layout changes
// (the agent note appearing, the window resizing) keep the newest message in view.
let stickToBottom = saved.atBottom;
log.addEventListener(
  'scroll',
  () => {
    stickToBottom = isAtBottom();
    saveState();
  },
  { passive: true },
);
new ResizeObserver(() => scrollToBottomIf(stickToBottom)).observe(log);
log.addEventListener('click', (e) => {
  const target = e.target instanceof Element ? e.target.closest('button.code-action') : null;
  if (!target) return;
  const code = target.closest('.code-block')?.querySelector('pre code, pre')?.textContent ?? '';
  const language = target.closest('.code-block')?.querySelector('.code-lang')?.textContent || undefined;
  const action = target.getAttribute('data-action');
  if (action === 'copy') api.postMessage({ type: 'chat/copy', code });
  else if (action === 'insert') api.postMessage({ type: 'chat/insert', code, language });
  else if (action === 'apply') api.postMessage({ type: 'chat/apply', code, language });
});

// Countdowns in status lines ("retrying in 3 s").
setInterval(() => {
  for (const v of views.values()) if (v.message.pending && v.statusLine?.until !== undefined) renderStatus(v);
}, 500);

log.append(emptyState);
updateComposer();
onHostMessage<ChatHostMessage>(handle);
api.postMessage({ type: 'chat/ready' });
// The page (re)loads whenever the view is shown again, also behind the command palette or an
// editor the user is typing in: take the focus only when the view has it, never steal it.
if (document.hasFocus()) prompt.focus();
else window.addEventListener('focus', () => prompt.focus(), { once: true });
