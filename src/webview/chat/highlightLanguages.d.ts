// highlight.js ships no type declarations for its per-language modules: each exports the grammar.
declare module 'highlight.js/lib/languages/*' {
  import type { LanguageFn } from 'highlight.js';
  const language: LanguageFn;
  export default language;
}
