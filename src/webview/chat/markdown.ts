// Model output is untrusted: markdown is rendered by marked, then everything goes through DOMPurify
// (no scripts, no styles, no forms, no event handlers) before it touches the DOM.
import DOMPurify from 'dompurify';
import { marked } from 'marked';

const purifyConfig = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'option', 'iframe', 'object', 'embed', 'svg', 'math'],
  FORBID_ATTR: ['style', 'id', 'srcset'],
  ALLOW_DATA_ATTR: false,
};

let hooked = false;

function hookOnce(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.hasAttribute('class')) {
      // Only marked's own "language-x" on code survives: model text must not borrow our styles.
      const lang = node.tagName === 'CODE' ? [...node.classList].find((c) => /^language-[\w+#.-]{1,64}$/.test(c)) : undefined;
      if (lang) node.setAttribute('class', lang);
      else node.removeAttribute('class');
    }
    if (node.tagName === 'A') {
      const href = node.getAttribute('href') ?? '';
      // Only web and mail links; VS Code opens them outside the webview.
      if (!/^(https?:|mailto:)/i.test(href)) node.removeAttribute('href');
      node.setAttribute('rel', 'noopener noreferrer');
    }
    if (node.tagName === 'IMG') {
      // Remote images are blocked by the CSP anyway; show the alt text instead of a broken icon.
      const alt = node.getAttribute('alt') ?? '';
      node.replaceWith(document.createTextNode(alt ? `[image: ${alt}]` : '[image]'));
    }
  });
}

/** Sanitised HTML for a markdown answer. */
export function renderMarkdown(text: string): string {
  hookOnce();
  const html = marked.parse(text, { async: false, gfm: true, breaks: false });
  return DOMPurify.sanitize(html, purifyConfig);
}

/** The language of a fenced code block ("ts" from class "language-ts"). */
export function codeLanguage(code: Element): string | undefined {
  const cls = [...code.classList].find((c) => c.startsWith('language-'));
  return cls ? cls.slice('language-'.length).slice(0, 64) : undefined;
}
