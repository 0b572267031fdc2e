// The dashboard webview: renders the host's snapshots (spend against budget, spend charts as small
// inline SVG bars, breakers with reset, latency, live retries with countdowns, the last requests)
// and the live event feed. It keeps nothing the host does not send, except the feed across reloads.
import type { DashboardHostMessage, DashboardLiveEvent, DashboardSnapshot, DashboardWebviewMessage, SpendBar } from '../../shared/dashboardProtocol';
import { ESTIMATED_COST_TITLE, formatCost, formatDuration, formatUsd, percent, plural } from '../../shared/format';
import { errorLabel, WAIT_VOCABULARY } from '../../shared/errorVocabulary';
import { el, onHostMessage, vscodeApi } from '../vscodeApi';

interface PageState {
  live: DashboardLiveEvent[];
  scrollY: number;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const MAX_LIVE = 30;

const api = vscodeApi<PageState, DashboardWebviewMessage>();
const saved: PageState = api.getState() ?? { live: [], scrollY: 0 };
let live: DashboardLiveEvent[] = saved.live.slice(-MAX_LIVE);
let snapshot: DashboardSnapshot | undefined;
/** Date.now() when the snapshot arrived: countdowns run from it. */
let receivedAt = 0;

const root = document.getElementById('root') ?? document.body;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function panel(title: string, ...children: Array<Node | string>): HTMLElement {
  const id = `h-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return el('section', { className: 'panel', attrs: { 'aria-labelledby': id } }, el('h2', { text: title, attrs: { id } }), ...children);
}

function saveState(): void {
  api.setState({ live, scrollY: window.scrollY });
}

/** A horizontal bar (SVG) whose filled share is `fraction` of the track. */
function meter(fraction: number, cls = '', label = ''): SVGSVGElement {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const s = svg('svg', { class: `meter ${cls}`.trim(), width: '100%', height: 10, role: 'img', 'aria-label': label || percent(f) });
  s.append(svg('rect', { class: 'track', x: 0, y: 0, width: '100%', height: 10, rx: 2 }));
  if (f > 0) s.append(svg('rect', { class: 'fill', x: 0, y: 0, width: `${Math.max(f * 100, 0.5)}%`, height: 10, rx: 2 }));
  return s;
}

function budgetCard(title: string, spent: number, limit: number | undefined, alert: number | undefined, extra?: string): HTMLElement {
  const card = el('div', { className: 'card' }, el('div', { className: 'card-title', text: title }));
  const value = el('div', { className: 'card-value', text: formatUsd(spent) });
  card.append(value);
  if (limit !== undefined) {
    const fraction = limit > 0 ? spent / limit : 1;
    value.append(el('span', { className: 'of', text: ` of ${formatUsd(limit)}` }));
    const cls = fraction >= 1 ? 'over' : alert !== undefined ? 'warn' : '';
    card.append(meter(fraction, cls, `${percent(fraction)} of the ${title.toLowerCase()} budget`));
    card.append(el('div', { className: `card-note ${cls}`, text: alert !== undefined ? `Alert: ${percent(alert)} reached` : `${percent(fraction)} used` }));
  } else {
    card.append(el('div', { className: 'card-note', text: 'No budget set' }));
  }
  if (extra) card.append(el('div', { className: 'card-note', text: extra }));
  return card;
}

function statCard(title: string, value: string, note: string): HTMLElement {
  return el('div', { className: 'card' }, el('div', { className: 'card-title', text: title }), el('div', { className: 'card-value', text: value }), el('div', { className: 'card-note', text: note }));
}

function barList(bars: SpendBar[], empty: string): HTMLElement {
  if (bars.length === 0) return el('p', { className: 'empty', text: empty });
  const max = Math.max(...bars.map((b) => b.usd));
  const list = el('div', { className: 'bars', attrs: { role: 'list' } });
  for (const b of bars.slice(0, 12)) {
    list.append(
      el(
        'div',
        { className: 'bar-row', attrs: { role: 'listitem', title: `${b.label}: ${formatUsd(b.usd)}` } },
        el('span', { className: 'bar-label', text: b.label }),
        meter(max > 0 ? b.usd / max : 0, 'bar', `${b.label}: ${formatUsd(b.usd)}`),
        el('span', { className: 'bar-value', text: formatUsd(b.usd) }),
      ),
    );
  }
  return list;
}

function dayChart(days: SpendBar[]): HTMLElement {
  const total = days.reduce((s, d) => s + d.usd, 0);
  if (days.length === 0 || total === 0) return el('p', { className: 'empty', text: 'No spend in the last 30 days.' });
  const max = Math.max(...days.map((d) => d.usd));
  const w = 300;
  const h = 80;
  const step = w / days.length;
  const chart = svg('svg', { class: 'day-chart', viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: 'none', width: '100%', height: 120, role: 'img', 'aria-label': `Spend per day over the last ${days.length} days, ${formatUsd(total)} in all` });
  chart.append(svg('line', { class: 'axis', x1: 0, y1: h - 0.5, x2: w, y2: h - 0.5 }));
  days.forEach((d, i) => {
    const bh = d.usd > 0 ? Math.max(1.5, (d.usd / max) * (h - 4)) : 0;
    const rect = svg('rect', { class: 'day-bar', x: i * step + step * 0.15, y: h - bh, width: step * 0.7, height: bh });
    const title = svg('title', {});
    title.textContent = `${d.label}: ${formatUsd(d.usd)}`;
    rect.append(title);
    chart.append(rect);
  });
  const first = days[0]?.label ?? '';
  const last = days[days.length - 1]?.label ?? '';
  return el(
    'div',
    { className: 'day-chart-wrap' },
    el('div', { className: 'day-max', text: `max ${formatUsd(max)}` }),
    chart,
    el('div', { className: 'day-axis' }, el('span', { text: first }), el('span', { text: last })),
  );
}

function table(headers: string[], rows: Array<Array<Node | string>>, caption: string): HTMLElement {
  const head = el('tr', {}, ...headers.map((h) => el('th', { text: h, attrs: { scope: 'col' } })));
  const body = rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))));
  return el('div', { className: 'table-wrap' }, el('table', {}, el('caption', { className: 'sr-only', text: caption }), el('thead', {}, head), el('tbody', {}, ...body)));
}

function badge(text: string, cls: string): HTMLElement {
  return el('span', { className: `state ${cls}`, text });
}

/** "in 3 s", "in 10 min": seconds while they matter, minutes for long waits. */
function waitText(until: number): string {
  const s = Math.max(0, Math.ceil((until - Date.now()) / 1000));
  return s >= 120 ? `${Math.ceil(s / 60)} min` : `${s} s`;
}

function countdown(ms: number, prefix = '', cls = ''): HTMLElement {
  const until = receivedAt + ms;
  const span = el('span', { className: `countdown ${cls}`.trim(), attrs: { 'data-until': String(until), 'data-prefix': prefix } });
  span.textContent = `${prefix}${waitText(until)}`;
  return span;
}

function breakersPanel(s: DashboardSnapshot): HTMLElement {
  if (s.breakers.length === 0) return panel('Circuit breakers', el('p', { className: 'empty', text: 'No agents configured.' }));
  const rows = s.breakers.map((b) => {
    const reset = el('button', { className: 'secondary small', text: 'Reset', attrs: { type: 'button', 'aria-label': `Reset the circuit breaker of ${b.agentId}` } });
    reset.disabled = b.state === 'closed' && b.consecutiveFailures === 0;
    reset.addEventListener('click', () => api.postMessage({ type: 'dashboard/resetBreaker', agentId: b.agentId }));
    const state = el('span', {}, badge(b.state, b.state));
    if (b.state === 'open' && b.retryInMs !== undefined) state.append(countdown(b.retryInMs, 'probe in ', 'below'));
    return [el('span', { className: 'agent', text: b.agentId, attrs: { title: `${b.provider} · ${b.model}` } }), state, String(b.consecutiveFailures), String(b.opens), b.lastFailureCode ? el('span', { text: errorLabel(b.lastFailureCode), attrs: { title: b.lastFailureCode } }) : '—', reset];
  });
  const resetAll = el('button', { className: 'secondary small', text: 'Reset all', attrs: { type: 'button', 'aria-label': 'Reset every circuit breaker' } });
  resetAll.disabled = s.breakers.every((b) => b.state === 'closed' && b.consecutiveFailures === 0);
  resetAll.addEventListener('click', () => api.postMessage({ type: 'dashboard/resetAll' }));
  const p = panel('Circuit breakers', table(['Agent', 'State', 'Failures', 'Opens', 'Last error', ''], rows, 'Circuit breaker per agent'));
  p.querySelector('h2')?.append(resetAll);
  return p;
}

const DEADLINE_SOURCE: Record<DashboardSnapshot['latency'][number]['deadlineSource'], string> = {
  setting: 'set',
  learned: 'learned',
  'cold-start': 'cold start',
  off: 'off',
};

const ms = (v: number | undefined): string => (v === undefined ? '—' : formatDuration(v));

/** Time to first token and the deadline in force (measured by the core), stalls, and this window's request times. */
function latencyPanel(s: DashboardSnapshot): HTMLElement {
  if (s.latency.length === 0) return panel('Latency', el('p', { className: 'empty', text: 'No answered requests yet.' }));
  const rows = s.latency.map((l) => {
    const deadline = l.firstTokenDeadlineMs === undefined ? DEADLINE_SOURCE[l.deadlineSource] : `${formatDuration(l.firstTokenDeadlineMs)} (${DEADLINE_SOURCE[l.deadlineSource]})`;
    const stalled = l.stalled > 0 ? el('span', { className: 'stalled', text: String(l.stalled), attrs: { title: `${plural(l.stalled, 'attempt')} ${errorLabel('STALLED')}: no first token or no next chunk within the deadline` } }) : '0';
    return [
      el('span', { className: 'agent', text: l.agentId }),
      ms(l.ttftP50Ms),
      ms(l.ttftP95Ms),
      deadline,
      stalled,
      el('span', { text: ms(l.p50Ms), attrs: { title: `${plural(l.samples, 'answered request')} in this window` } }),
      ms(l.p95Ms),
    ];
  });
  return panel('Latency', table(['Agent', 'First token p50', 'p95', 'Deadline', 'Stalled', 'Total p50', 'p95'], rows, 'Latency per agent: time to first token, the first-token deadline in force, stalls, whole request time'));
}

function promptCacheSummary(s: DashboardSnapshot): string {
  let input = 0;
  let cached = 0;
  for (const a of s.cache.promptByAgent) {
    input += a.inputTokens;
    cached += a.cachedTokens;
  }
  return input > 0 ? `the providers': ${percent(cached / input)} of input tokens read from cache` : "the providers': no input yet";
}

function promptCachePanel(s: DashboardSnapshot): HTMLElement {
  if (s.cache.promptByAgent.length === 0) return panel('Prompt cache by agent', el('p', { className: 'empty', text: 'No provider calls since the window opened.' }));
  const rows = s.cache.promptByAgent.map((a) => [
    a.agentId,
    percent(a.hitRate),
    meter(a.hitRate, 'bar', `${percent(a.hitRate)} of input tokens read from the provider's cache`),
    `${a.cachedTokens.toLocaleString('en-US')} / ${a.inputTokens.toLocaleString('en-US')}`,
    formatUsd(a.savedUsd),
  ]);
  return panel('Prompt cache by agent', table(['Agent', 'Hit rate', '', 'Cached / input tokens', 'Saved'], rows, 'Provider prompt cache hit rate per agent'));
}

function retriesPanel(s: DashboardSnapshot): HTMLElement {
  if (s.retries.length === 0) return panel('Live retries', el('p', { className: 'empty', text: s.inFlight > 0 ? `${plural(s.inFlight, 'request')} running, none waiting to retry.` : 'No retries waiting.' }));
  const list = el('ul', { className: 'retries' });
  for (const r of s.retries) {
    if (r.waitReason) {
      list.append(el('li', {}, el('span', { className: 'agent', text: r.agentId }), ` ${WAIT_VOCABULARY[r.waitReason].state} — `, countdown(r.remainingMs, r.waitReason === 'budget' ? 'gives up in ' : 'next try in ')));
      continue;
    }
    list.append(el('li', {}, el('span', { className: 'agent', text: r.agentId }), ` ${errorLabel(r.code)} — attempt ${r.nextAttempt}/${r.maxAttempts} `, countdown(r.remainingMs, 'in ')));
  }
  return panel('Live retries', list);
}

function activityPanel(): HTMLElement {
  if (live.length === 0) return panel('Activity', el('p', { className: 'empty', text: 'Retries, fallbacks, breaker changes and budget alerts appear here.' }));
  const list = el('ul', { className: 'activity' });
  for (const e of [...live].reverse()) {
    list.append(el('li', { className: e.kind }, el('time', { text: new Date(e.at).toLocaleTimeString() }), ' ', e.text));
  }
  return panel('Activity', list);
}

function recentPanel(s: DashboardSnapshot): HTMLElement {
  if (s.recent.length === 0) return panel('Last requests', el('p', { className: 'empty', text: 'No requests since the window opened.' }));
  const rows = s.recent.map((r) => {
    const outcome = r.ok ? badge(r.cached ? 'cached' : 'ok', r.cached ? 'cached' : 'closed') : badge(r.errorCode ? errorLabel(r.errorCode) : 'failed', 'open');
    const pruned: string[] = [];
    if (r.dropped.length > 0) pruned.push(`dropped: ${r.dropped.join(', ')}`);
    if (r.truncated.length > 0) pruned.push(`truncated: ${r.truncated.join(', ')}`);
    return [
      el('time', { text: new Date(r.at).toLocaleTimeString() }),
      r.agentId ?? '—',
      r.task,
      outcome,
      r.costEstimated ? el('span', { text: formatCost(r.costUsd, true), attrs: { title: ESTIMATED_COST_TITLE } }) : formatUsd(r.costUsd),
      formatDuration(r.durationMs),
      String(r.attempts),
      el('span', { className: 'pruned', text: pruned.join('; ') || '—', attrs: { title: pruned.join('\n') } }),
    ];
  });
  return panel('Last requests', table(['Time', 'Agent', 'Task', 'Outcome', 'Cost', 'Duration', 'Attempts', 'Context pruned'], rows, 'The last requests'));
}

/** The month the spend panels show: this month (the budget's) or one of the history. */
function monthPicker(s: DashboardSnapshot): HTMLElement {
  const select = el('select', { className: 'month', attrs: { 'aria-label': 'Month shown' } });
  for (const month of s.view.months) {
    const option = el('option', { text: month === s.spend.month ? `${month} (this month)` : month, attrs: { value: month } });
    option.selected = month === s.view.month;
    select.append(option);
  }
  select.addEventListener('change', () => api.postMessage({ type: 'dashboard/month', month: select.value }));
  return select;
}

function render(): void {
  const s = snapshot;
  if (!s) return;
  const exportButton = el('button', { className: 'secondary', text: 'Export usage…', attrs: { type: 'button', 'aria-label': 'Export usage to CSV or JSON' } });
  exportButton.addEventListener('click', () => api.postMessage({ type: 'dashboard/export' }));
  const header = el(
    'header',
    { className: 'top' },
    el('h1', { text: 'MAOF Dashboard' }),
    monthPicker(s),
    el('span', { className: 'updated', text: `updated ${new Date(s.at).toLocaleTimeString()}` }),
    exportButton,
  );
  const shown = s.view.current ? 'this month' : `in ${s.view.month}`;
  const cacheHitRate = s.cache.hits > 0 ? ` · ${percent(s.cache.hits / (s.spend.requests + s.cache.hits))} of requests` : '';
  const cards = el(
    'div',
    { className: 'cards' },
    s.view.current ? budgetCard('This month', s.spend.monthUsd, s.spend.monthlyLimitUsd, s.spend.monthAlert) : statCard(`Spent in ${s.view.month}`, formatUsd(s.view.monthUsd ?? 0), `This month: ${formatUsd(s.spend.monthUsd)}`),
    budgetCard('Today', s.spend.dayUsd, s.spend.dailyLimitUsd, s.spend.dayAlert),
    statCard('Reserved', formatUsd(s.spend.reservedUsd), s.inFlight > 0 ? `${plural(s.inFlight, 'request')} in flight` : 'Nothing in flight'),
    statCard('Response cache', `${formatUsd(s.cache.savedUsd)} saved`, `MAOF's own: ${plural(s.cache.hits, 'hit')}${cacheHitRate} · ${plural(s.cache.entries, 'entry', 'entries')}`),
    statCard('Prompt cache', `${formatUsd(s.cache.promptSavedUsd)} saved`, promptCacheSummary(s)),
    statCard('Requests', String(s.spend.requests), `billed ${shown}`),
  );
  const y = window.scrollY;
  // Snapshots replace the page: keep keyboard focus on the same control.
  const focused = document.activeElement instanceof HTMLElement ? document.activeElement.getAttribute('aria-label') : null;
  root.replaceChildren(
    header,
    cards,
    el('div', { className: 'grid' }, panel('Spend by agent', barList(s.byAgent, `No spend ${shown}.`)), panel('Spend by task', barList(s.byTask, `No spend ${shown}.`))),
    panel('Spend by source', barList(s.bySource, `No spend ${shown}.`)),
    panel('Spend by day', dayChart(s.byDay)),
    el('div', { className: 'grid' }, breakersPanel(s), latencyPanel(s)),
    promptCachePanel(s),
    el('div', { className: 'grid' }, retriesPanel(s), activityPanel()),
    recentPanel(s),
  );
  window.scrollTo(0, y);
  if (focused) root.querySelector<HTMLElement>(`[aria-label="${CSS.escape(focused)}"]`)?.focus();
}

function tick(): void {
  for (const node of root.querySelectorAll<HTMLElement>('.countdown')) {
    const until = Number(node.dataset.until);
    node.textContent = `${node.dataset.prefix ?? ''}${waitText(until)}`;
  }
}

function liveKey(e: DashboardLiveEvent): string {
  return `${e.at}|${e.kind}|${e.text}`;
}

function handle(msg: DashboardHostMessage): void {
  if (msg.type === 'dashboard/snapshot') {
    const { type: _type, ...rest } = msg;
    snapshot = rest;
    receivedAt = Date.now();
    render();
  } else if (msg.type === 'dashboard/event') {
    const seen = new Set(live.map(liveKey));
    live = [...live, ...msg.events.filter((e) => !seen.has(liveKey(e)))].sort((a, b) => a.at - b.at).slice(-MAX_LIVE);
    saveState();
    render();
  }
}

root.replaceChildren(el('p', { className: 'loading', text: 'Loading the dashboard…' }));
setInterval(tick, 250);
window.addEventListener('scroll', () => saveState(), { passive: true });
onHostMessage<DashboardHostMessage>(handle);
api.postMessage({ type: 'dashboard/ready' });
if (saved.scrollY > 0) requestAnimationFrame(() => window.scrollTo(0, saved.scrollY));
