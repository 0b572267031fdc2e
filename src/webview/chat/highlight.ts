// Syntax highlighting of code blocks in chat answers with highlight.js. It runs on the sanitised
// DOM and only adds `<span class="hljs-…">` around text that highlight.js escapes itself, so the
// model can neither inject markup nor choose a style; the colours come from VS Code's theme (chat.css).
// A few tiny grammars are built in; every other one is a chunk of its own (esbuild code splitting),
// loaded the first time an answer uses it, so the webview stays small and the VSIX under its cap.
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import diff from 'highlight.js/lib/languages/diff';
import json from 'highlight.js/lib/languages/json';
import plaintext from 'highlight.js/lib/languages/plaintext';
import shell from 'highlight.js/lib/languages/shell';
import type { LanguageFn } from 'highlight.js';
import { codeLanguage } from './markdown';

export const BUILT_IN_GRAMMARS: Readonly<Record<string, LanguageFn>> = { bash, diff, json, plaintext, shell };

type Loader = () => Promise<{ default: LanguageFn }>;

/** Grammars loaded on first use. Each `import()` is a chunk under dist/webview/chat-chunks/. */
export const LAZY_GRAMMARS: Readonly<Record<string, Loader>> = {
  c: () => import('highlight.js/lib/languages/c'),
  cpp: () => import('highlight.js/lib/languages/cpp'),
  csharp: () => import('highlight.js/lib/languages/csharp'),
  css: () => import('highlight.js/lib/languages/css'),
  dart: () => import('highlight.js/lib/languages/dart'),
  dockerfile: () => import('highlight.js/lib/languages/dockerfile'),
  elixir: () => import('highlight.js/lib/languages/elixir'),
  go: () => import('highlight.js/lib/languages/go'),
  graphql: () => import('highlight.js/lib/languages/graphql'),
  haskell: () => import('highlight.js/lib/languages/haskell'),
  ini: () => import('highlight.js/lib/languages/ini'),
  java: () => import('highlight.js/lib/languages/java'),
  javascript: () => import('highlight.js/lib/languages/javascript'),
  kotlin: () => import('highlight.js/lib/languages/kotlin'),
  lua: () => import('highlight.js/lib/languages/lua'),
  makefile: () => import('highlight.js/lib/languages/makefile'),
  markdown: () => import('highlight.js/lib/languages/markdown'),
  objectivec: () => import('highlight.js/lib/languages/objectivec'),
  perl: () => import('highlight.js/lib/languages/perl'),
  php: () => import('highlight.js/lib/languages/php'),
  powershell: () => import('highlight.js/lib/languages/powershell'),
  python: () => import('highlight.js/lib/languages/python'),
  r: () => import('highlight.js/lib/languages/r'),
  ruby: () => import('highlight.js/lib/languages/ruby'),
  rust: () => import('highlight.js/lib/languages/rust'),
  scala: () => import('highlight.js/lib/languages/scala'),
  scss: () => import('highlight.js/lib/languages/scss'),
  sql: () => import('highlight.js/lib/languages/sql'),
  swift: () => import('highlight.js/lib/languages/swift'),
  typescript: () => import('highlight.js/lib/languages/typescript'),
  xml: () => import('highlight.js/lib/languages/xml'),
  yaml: () => import('highlight.js/lib/languages/yaml'),
};

/**
 * The fence names of the lazy grammars, which highlight.js only learns when a grammar is loaded.
 * A unit test checks this against each grammar's own `aliases`.
 */
export const LAZY_ALIASES: Readonly<Record<string, string>> = {
  h: 'c',
  cc: 'cpp', 'c++': 'cpp', 'h++': 'cpp', hpp: 'cpp', hh: 'cpp', hxx: 'cpp', cxx: 'cpp',
  cs: 'csharp', 'c#': 'csharp',
  docker: 'dockerfile',
  ex: 'elixir', exs: 'elixir',
  golang: 'go',
  gql: 'graphql',
  hs: 'haskell',
  toml: 'ini',
  jsp: 'java',
  js: 'javascript', jsx: 'javascript', mjs: 'javascript', cjs: 'javascript',
  kt: 'kotlin', kts: 'kotlin', ktm: 'kotlin', ktx: 'kotlin',
  pluto: 'lua',
  mk: 'makefile', mak: 'makefile', make: 'makefile',
  md: 'markdown', mkdown: 'markdown', mkd: 'markdown',
  mm: 'objectivec', objc: 'objectivec', 'obj-c': 'objectivec', 'obj-c++': 'objectivec', 'objective-c++': 'objectivec',
  pl: 'perl', pm: 'perl',
  pwsh: 'powershell', ps: 'powershell', ps1: 'powershell',
  py: 'python', gyp: 'python', ipython: 'python',
  rb: 'ruby', gemspec: 'ruby', podspec: 'ruby', thor: 'ruby', irb: 'ruby',
  rs: 'rust',
  ts: 'typescript', tsx: 'typescript', mts: 'typescript', cts: 'typescript',
  html: 'xml', xhtml: 'xml', rss: 'xml', atom: 'xml', xjb: 'xml', xsd: 'xml', xsl: 'xml', plist: 'xml', wsf: 'xml', svg: 'xml',
  yml: 'yaml',
};

/** Blocks longer than this stay plain: highlighting re-runs on every streamed frame. */
export const MAX_HIGHLIGHT_CHARS = 50_000;

for (const [name, grammar] of Object.entries(BUILT_IN_GRAMMARS)) hljs.registerLanguage(name, grammar);

/** Grammar loads in flight or done: true when registered, false when the chunk could not load. */
const loads = new Map<string, Promise<boolean>>();

function lazyName(lang: string): string | undefined {
  const l = lang.toLowerCase();
  return Object.hasOwn(LAZY_GRAMMARS, l) ? l : Object.hasOwn(LAZY_ALIASES, l) ? LAZY_ALIASES[l] : undefined;
}

/** Loads the grammar for `lang` if we have one that is not registered yet; resolves true when it was registered. */
export function loadGrammar(lang: string): Promise<boolean> {
  const name = lazyName(lang);
  if (!name) return Promise.resolve(false);
  let load = loads.get(name);
  if (!load) {
    const loader = LAZY_GRAMMARS[name];
    load = loader
      ? loader().then(
          (m) => {
            hljs.registerLanguage(name, m.default);
            return true;
          },
          // A chunk that cannot load (blocked, missing) leaves its code plain; it is not retried.
          () => false,
        )
      : Promise.resolve(false);
    loads.set(name, load);
  }
  return load;
}

/**
 * Highlights every fenced block under `root` whose grammar is registered; starts loading the
 * missing ones and calls `onLoaded` when one arrives (the caller renders again).
 */
export function highlightCodeBlocks(root: ParentNode, onLoaded: () => void): void {
  for (const code of root.querySelectorAll('pre > code')) {
    const lang = codeLanguage(code)?.toLowerCase();
    if (!lang) continue;
    if (hljs.getLanguage(lang)) {
      highlightElement(code, lang);
      continue;
    }
    // Loads once (also while streaming re-renders the block every frame); a failed load stays failed.
    void loadGrammar(lang).then((ok) => {
      if (ok) onLoaded();
    });
  }
}

function highlightElement(code: Element, lang: string): void {
  const text = code.textContent ?? '';
  if (text.length > MAX_HIGHLIGHT_CHARS) return;
  // highlight.js escapes the text (&, <, >, quotes) and adds only its own class-named spans.
  code.innerHTML = hljs.highlight(text, { language: lang, ignoreIllegals: true }).value;
  code.classList.add('hljs');
}
