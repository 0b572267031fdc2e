// Keeps secrets on the machine: finds key-looking strings in text that is about to be sent or
// logged, and recognises files that must never be sent at all.
//
// Every pattern is anchored on a literal (or a keyword) and uses bounded repetition only, so a
// scan is linear in the text; a rule whose literal is absent costs one `includes`.
//
// Every pattern but the PEM one matches within one line, and every match holds one of its rule's
// triggers: IncrementalRedactor relies on both to scan only the lines an edit touched. A new rule
// must keep to that, or be handled like PEM there.

const REDACTED = '[REDACTED]';

interface Span {
  start: number;
  end: number;
  replacement: string;
}

interface PatternRule {
  /** Skip the rule unless one of these occurs in the text (a cheap memchr-like pre-check). */
  triggers: readonly string[];
  /** Global regex; the secret is the last capture group, or the whole match if there is none. */
  re: RegExp;
  accept?: (value: string) => boolean;
}

const hasDigit = (s: string): boolean => /[0-9]/.test(s);
const hasUpper = (s: string): boolean => /[A-Z]/.test(s);
const hasLower = (s: string): boolean => /[a-z]/.test(s);
/** Random-looking: the mix of character classes a generated key has and a word does not. */
const looksRandom = (s: string): boolean => hasDigit(s) && hasUpper(s) && hasLower(s);
/** Lower-case hex keys have no upper case: DeepSeek ("sk-" + 32 hex), OpenRouter ("sk-or-v1-" + 64 hex). */
const hasLongHexRun = (s: string): boolean => (s.match(/[0-9a-f]{32,}/g) ?? []).some((run) => hasDigit(run) && /[a-f]/.test(run));

const PATTERN_RULES: readonly PatternRule[] = [
  // Anthropic before OpenAI: both start with "sk-"; overlapping spans are merged anyway.
  { triggers: ['sk-ant-'], re: /\bsk-ant-[A-Za-z0-9_-]{20,400}/g },
  {
    triggers: ['sk-'],
    re: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,400}/g,
    accept: (v) => {
      const body = v.replace(/^sk-(?:proj-|svcacct-|admin-)?/, '');
      return looksRandom(body) || hasLongHexRun(body);
    },
  },
  { triggers: ['AKIA', 'ASIA'], re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Za-z])/g },
  {
    triggers: ['ghp_', 'gho_', 'ghs_', 'ghu_', 'ghr_', 'github_pat_'],
    re: /\b(?:gh[opsur]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})/g,
  },
  { triggers: ['xox'], re: /\bxox[abposr]-[A-Za-z0-9-]{10,250}/g },
  { triggers: ['AIza'], re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g },
  { triggers: ['_live_', '_test_'], re: /\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}/g },
  { triggers: ['eyJ'], re: /\beyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{16,4096}/g },
  // Bearer credentials anywhere; the scheme word is kept.
  {
    triggers: ['Bearer', 'bearer', 'BEARER', 'bEARER'],
    re: /\b[Bb](?:earer|EARER)[ \t]{1,8}([A-Za-z0-9._~+/-]{16,4096}=*)(?![A-Za-z0-9._~+/=(-])/g,
    accept: (v) => hasDigit(v) && !isCodeReference(v),
  },
];

/** An identifier or a dotted path (`req.headers.authorization`): code, not a credential. */
function isCodeReference(value: string): boolean {
  return /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/.test(value) && !hasDigit(value);
}

const PLACEHOLDER = /^[$<{%*]|\$\{|\{\{|your[_-]|placeholder|changeme|x{6,}|\*{3,}|\.{3,}/i;
const CODE_WORDS = new Set(['undefined', 'nullable', 'optional', 'required', 'password', 'string[]']);

// `password = "…"`, `api_key: …`, `"clientSecret": "…"`, `DB_PASSWORD=…`, `--token=…`: the
// keyword must end the name, the value is kept apart from the name and the separator.
const ASSIGN_KEYWORD = /(?:password|passwd|passphrase|secret[_.-]?key|secret|api[_.-]?key|access[_.-]?key|private[_.-]?key|token)(?![A-Za-z0-9_])/gi;
const ASSIGN_VALUE = /["']?\]?([ \t]{0,8})(:=|=>|[:=])([ \t]{0,8})(?:(["'`])([^"'`\s\\]{8,4096})\4|([^\s"'`,;()[\]{}<>]{8,4096})(?=[\s,;)\]}]|$))/y;

function assignmentSpans(text: string, out: Span[]): void {
  ASSIGN_KEYWORD.lastIndex = 0;
  for (let m = ASSIGN_KEYWORD.exec(text); m; m = ASSIGN_KEYWORD.exec(text)) {
    ASSIGN_VALUE.lastIndex = m.index + m[0].length;
    const v = ASSIGN_VALUE.exec(text);
    if (!v) continue;
    const quoted = v[5];
    const value = quoted ?? v[6];
    if (value === undefined || PLACEHOLDER.test(value)) continue;
    const weakName = m[0].toLowerCase() === 'token';
    if (!acceptAssigned(value, quoted !== undefined, weakName, v[1] !== '' || v[3] !== '', v[2], text, v.index + v[0].length)) continue;
    const end = v.index + v[0].length - (quoted !== undefined ? 1 : 0);
    out.push({ start: end - value.length, end, replacement: REDACTED });
    ASSIGN_KEYWORD.lastIndex = Math.max(ASSIGN_KEYWORD.lastIndex, end);
  }
}

function acceptAssigned(value: string, quoted: boolean, weakName: boolean, spaced: boolean, separator: string, text: string, after: number): boolean {
  // "token" names much that is not secret (lexer tokens, grammar scopes): ask for a key-like value.
  if (weakName) return hasDigit(value) && /[A-Za-z]/.test(value) && value.length >= 16 && !isCodeReference(value);
  if (quoted) return !(isCodeReference(value) && value.includes('.'));
  if (hasDigit(value) || /[^\w.-]/.test(value)) return true;
  // A bare word: a literal in YAML (`password: hunter`) or env/ini (`PASSWORD=hunter`) style, but a
  // variable or a type in code (`password = getPassword`, `password: PasswordType`).
  if (value.includes('.') || CODE_WORDS.has(value.toLowerCase())) return false;
  if (/^[A-Z][a-z]+(?:[A-Z][a-z]*)+$/.test(value) || /^[a-z]+(?:[A-Z][a-z]*)+$/.test(value)) return false;
  const endOfLine = after >= text.length || text[after] === '\n' || text[after] === '\r';
  return endOfLine && (separator === ':' || !spaced);
}

// `Authorization: Bearer …`, `"authorization": "Basic …"`, `Authorization = token …`.
const AUTH_HEADER = /\bauthorization["']?\]?[ \t]{0,8}[:=][ \t]{0,8}["']?(?:(?:bearer|basic|token|bot|digest)[ \t]{1,8})?([A-Za-z0-9._~+/-]{8,4096}=*)(?![A-Za-z0-9._~+/=(-])/gi;

function authorizationSpans(text: string, out: Span[]): void {
  AUTH_HEADER.lastIndex = 0;
  for (let m = AUTH_HEADER.exec(text); m; m = AUTH_HEADER.exec(text)) {
    const value = m[1];
    if (PLACEHOLDER.test(value) || isCodeReference(value)) continue;
    if (!hasDigit(value) && value.length < 20) continue;
    const end = m.index + m[0].length;
    out.push({ start: end - value.length, end, replacement: REDACTED });
  }
}

// `aws_secret_access_key = …`: 40 base64 characters with no prefix of their own.
const AWS_SECRET = /(?:aws_?secret_?access_?key|aws_?secret_?key|secretaccesskey)["']?[ \t]{0,8}(?::|=|=>)[ \t]{0,8}["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi;

// `scheme://user:password@host`: the password goes, user and host stay.
const URL_CREDENTIALS = /([^\s:@/"'<>]{1,256}):([^\s@/"'<>]{3,256})@/y;

function urlCredentialSpans(text: string, out: Span[]): void {
  for (let i = text.indexOf('://'); i >= 0; i = text.indexOf('://', i + 3)) {
    if (i === 0 || !/[A-Za-z0-9+.-]/.test(text[i - 1])) continue;
    URL_CREDENTIALS.lastIndex = i + 3;
    const m = URL_CREDENTIALS.exec(text);
    if (!m) continue;
    const end = m.index + m[0].length - 1;
    out.push({ start: end - m[2].length, end, replacement: REDACTED });
  }
}

// PEM private keys span lines: the body goes, the BEGIN/END lines stay. A block cut off before its
// END line (a truncated file) is redacted to the end of the text.
const PEM_BEGIN = /-----BEGIN (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----/g;

function pemSpans(text: string, out: Span[]): void {
  PEM_BEGIN.lastIndex = 0;
  for (let m = PEM_BEGIN.exec(text); m; m = PEM_BEGIN.exec(text)) {
    const bodyStart = m.index + m[0].length;
    const endMarker = text.indexOf('-----END ', bodyStart);
    const bodyEnd = endMarker < 0 ? text.length : endMarker;
    out.push({ start: bodyStart, end: bodyEnd, replacement: endMarker < 0 ? `\n${REDACTED}` : `\n${REDACTED}\n` });
    PEM_BEGIN.lastIndex = Math.max(PEM_BEGIN.lastIndex, bodyEnd);
  }
}

function findSpans(text: string): Span[] {
  const spans: Span[] = [];
  if (text.includes('PRIVATE KEY')) pemSpans(text, spans);
  for (const rule of PATTERN_RULES) {
    if (!rule.triggers.some((t) => text.includes(t))) continue;
    rule.re.lastIndex = 0;
    for (let m = rule.re.exec(text); m; m = rule.re.exec(text)) {
      const value = m.length > 1 && m[m.length - 1] !== undefined ? m[m.length - 1] : m[0];
      if (rule.accept && !rule.accept(value)) continue;
      const end = m.index + m[0].length;
      spans.push({ start: end - value.length, end, replacement: REDACTED });
    }
  }
  AWS_SECRET.lastIndex = 0;
  for (let m = AWS_SECRET.exec(text); m; m = AWS_SECRET.exec(text)) {
    const end = m.index + m[0].length;
    spans.push({ start: end - m[1].length, end, replacement: REDACTED });
  }
  if (/authorization/i.test(text)) authorizationSpans(text, spans);
  assignmentSpans(text, spans);
  if (text.includes('://')) urlCredentialSpans(text, spans);
  return mergeSpans(spans);
}

/** Sorted, non-overlapping; a span inside another (a key inside a PEM body) is absorbed. */
function mergeSpans(spans: Span[]): Span[] {
  if (spans.length < 2) return spans;
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Span[] = [spans[0]];
  for (let i = 1; i < spans.length; i++) {
    const last = merged[merged.length - 1];
    const s = spans[i];
    if (s.start < last.end) last.end = Math.max(last.end, s.end);
    else merged.push({ ...s });
  }
  return merged;
}

export interface RedactionResult {
  text: string;
  count: number;
  /** Where each replacement sits in the redacted text (sorted, non-overlapping). */
  spans: ReadonlyArray<{ start: number; end: number }>;
  /** Where an offset of the original text ended up (an offset inside a secret maps to its start). */
  mapOffset(offset: number): number;
}

/** Redaction with an offset map, for callers that track a cursor or cut the result. */
export function redactSecretsMapped(text: string): RedactionResult {
  return applySpans(text, text.length < 8 ? [] : findSpans(text));
}

function applySpans(text: string, found: readonly Span[]): RedactionResult {
  if (found.length === 0) return { text, count: 0, spans: [], mapOffset: (o) => o };
  const parts: string[] = [];
  const spans: Array<{ start: number; end: number }> = [];
  let at = 0;
  let outLength = 0;
  for (const s of found) {
    const kept = text.slice(at, s.start);
    parts.push(kept, s.replacement);
    outLength += kept.length;
    spans.push({ start: outLength, end: outLength + s.replacement.length });
    outLength += s.replacement.length;
    at = s.end;
  }
  parts.push(text.slice(at));
  return {
    text: parts.join(''),
    count: found.length,
    spans,
    mapOffset(offset: number): number {
      let shift = 0;
      for (const s of found) {
        if (offset < s.end) return offset <= s.start ? offset + shift : s.start + shift;
        shift += s.replacement.length - (s.end - s.start);
      }
      return offset + shift;
    },
  };
}

/** Below this, a text is scanned whole: comparing it with earlier ones would save little. */
const MIN_INCREMENTAL_CHARS = 16_384;
/** Texts remembered to compare the next one with: the active file and a few others. */
const RECENT_TEXTS = 4;

interface Scanned {
  text: string;
  found: readonly Span[];
}

/**
 * redactSecretsMapped for texts that are redacted again after small edits (the active file): a
 * text that shares most of its start and end with one redacted before is scanned again only in the
 * lines between, and the secrets found before and after them are reused. The result is the same
 * as scanning the whole text: no match crosses a line break and each holds one of its rule's
 * triggers, so what a line yields depends on that line alone (`\b` and look-aheads stop at the
 * same line breaks). A PEM key spans lines: a text that may hold one is scanned whole.
 */
export class IncrementalRedactor {
  /** The last few texts scanned, most recent first, with what was found in them. */
  private recent: Scanned[] = [];

  redact(text: string): RedactionResult {
    if (text.length < MIN_INCREMENTAL_CHARS || text.includes('PRIVATE KEY')) return redactSecretsMapped(text);
    let found: readonly Span[] | undefined;
    for (const before of this.recent) {
      found = before.text === text ? before.found : rescanEdited(before, text);
      if (found) break;
    }
    found ??= findSpans(text);
    this.recent = [{ text, found }, ...this.recent.filter((r) => r.text !== text)].slice(0, RECENT_TEXTS);
    return applySpans(text, found);
  }
}

/** The secrets of `text` from those of an earlier version of it; undefined if it is not one. */
function rescanEdited(before: Scanned, text: string): Span[] | undefined {
  const old = before.text;
  const common = Math.min(old.length, text.length);
  const prefix = commonPrefix(old, text, common);
  const suffix = commonSuffix(old, text, common - prefix);
  if (prefix + suffix < text.length / 2) return undefined;
  // Whole lines around the change: from the start of the line the change begins in, through the
  // line break after it, so the lines on either side (and what follows each) are as they were.
  const from = prefix === 0 ? 0 : text.lastIndexOf('\n', prefix - 1) + 1;
  const nl = text.indexOf('\n', text.length - suffix);
  const to = nl < 0 ? text.length : nl + 1;
  const shift = text.length - old.length;
  const found: Span[] = [];
  for (const s of before.found) if (s.end <= from) found.push(s);
  for (const s of findSpans(text.slice(from, to))) found.push({ start: from + s.start, end: from + s.end, replacement: s.replacement });
  for (const s of before.found) if (s.start >= to - shift) found.push({ start: s.start + shift, end: s.end + shift, replacement: s.replacement });
  return found;
}

// Compared a chunk at a time: a native string comparison is far faster than a loop over chars.
const COMPARE_CHUNKS = [4096, 128, 8, 1];

function commonPrefix(a: string, b: string, limit: number): number {
  let i = 0;
  for (const size of COMPARE_CHUNKS) while (i + size <= limit && a.slice(i, i + size) === b.slice(i, i + size)) i += size;
  return i;
}

function commonSuffix(a: string, b: string, limit: number): number {
  let i = 0;
  for (const size of COMPARE_CHUNKS) while (i + size <= limit && a.slice(a.length - i - size, a.length - i) === b.slice(b.length - i - size, b.length - i)) i += size;
  return i;
}

export function redactSecrets(text: string): { text: string; count: number } {
  const r = redactSecretsMapped(text);
  return { text: r.text, count: r.count };
}

/** For logs: replaces each known key value (the ones MAOF holds) wherever it appears. */
export function redactKnownValues(text: string, values: string[]): string {
  // Shorter values would blank out ordinary words; no real key is that short.
  const known = values.map((v) => v.trim()).filter((v) => v.length >= 4);
  known.sort((a, b) => b.length - a.length);
  let out = text;
  for (const v of known) if (out.includes(v)) out = out.split(v).join(REDACTED);
  return out;
}

// Source files named credentials.* hold code that handles credentials, not credentials; the
// redactor still scrubs any key inside them.
const SOURCE_EXT = /\.(?:[cm]?[jt]sx?|py|go|rs|java|kt|cs|rb|php|swift|c|cc|cpp|h|hpp|scala|dart|vue|svelte)$/;

function builtinSecretName(base: string): boolean {
  if (base === '.env' || base.startsWith('.env.') || base === '.envrc') return true;
  if (/\.(?:pem|key|p12|pfx|keystore|jks)$/.test(base)) return true;
  if (/^id_(?:rsa|dsa|ecdsa|ed25519)/.test(base)) return true;
  if (base === '.npmrc' || base === '.netrc' || base === '_netrc' || base === '.pypirc' || base === '.pgpass' || base === '.git-credentials') return true;
  return base.startsWith('credentials') && !SOURCE_EXT.test(base);
}

interface Glob {
  re: RegExp;
  /** Patterns with a slash match the path, the others the file name. */
  onPath: boolean;
}

const globCache = new Map<string, Glob>();

/** Simple globs: `*` within a path segment, `**` across segments, `?` one character. */
function compileGlob(pattern: string): Glob {
  let glob = globCache.get(pattern);
  if (!glob) {
    const p = pattern.trim().replace(/\\/g, '/').replace(/^\.\//, '').replace(/^\//, '');
    let src = '';
    for (let i = 0; i < p.length; i++) {
      const ch = p[i];
      if (ch === '*' && p[i + 1] === '*') {
        i += 1;
        if (p[i + 1] === '/') {
          i += 1;
          src += '(?:.*/)?';
        } else {
          src += '.*';
        }
      } else if (ch === '*') src += '[^/]*';
      else if (ch === '?') src += '[^/]';
      else src += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    const onPath = p.includes('/');
    // Case-insensitive: on Windows and macOS `.ENV` is the same file, and excluding more is safe.
    glob = { re: new RegExp(onPath ? `(?:^|/)${src}$` : `^${src}$`, 'i'), onPath };
    globCache.set(pattern, glob);
  }
  return glob;
}

export function isSecretFile(path: string, extraPatterns?: string[]): boolean {
  const normalized = path.replace(/\\/g, '/').replace(/\/+$/, '');
  const base = normalized.slice(normalized.lastIndexOf('/') + 1);
  if (builtinSecretName(base.toLowerCase())) return true;
  for (const pattern of extraPatterns ?? []) {
    if (!pattern.trim()) continue;
    const glob = compileGlob(pattern);
    if (glob.re.test(glob.onPath ? normalized : base)) return true;
  }
  return false;
}
