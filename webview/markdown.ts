/**
 * Agent-made Markdown to HTML that is safe to insert: invisible and bidi characters become visible escapes first
 * (the shared `visibleText`), raw HTML in the source is shown as text rather than interpreted, and DOMPurify
 * removes anything that could still run or load (scripts, handlers, styles, images, forms, SVG).
 */
import { Marked, type Tokens } from 'marked';
import DOMPurify from 'dompurify';
import { visibleLine, visibleText } from '../src/core/visible-text.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    // The agent's raw HTML is text to read, never markup.
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
  },
});

const purifier = DOMPurify(window);
// The source was sanitised, but Markdown passes character references (`&#x202E;`) through as HTML, which decodes
// them: what the browser will show is sanitised again, text and the one attribute shown (a link's tooltip).
purifier.addHook('afterSanitizeElements', (node) => {
  if (node.nodeType === Node.TEXT_NODE && node.textContent) node.textContent = visibleText(node.textContent);
});
purifier.addHook('afterSanitizeAttributes', (node) => {
  // A link shows where it goes, and never replaces the panel.
  if (node.tagName === 'A') {
    const href = node.getAttribute('href') ?? '';
    node.setAttribute('title', visibleLine(href));
    node.setAttribute('rel', 'noopener noreferrer');
    node.removeAttribute('target');
  }
});

const PURIFY_CONFIG = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'img', 'picture', 'video', 'audio', 'source', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed'],
  FORBID_ATTR: ['style', 'id', 'class', 'srcset'],
  ALLOW_DATA_ATTR: false,
};

/** Sanitised HTML for a piece of agent-made Markdown. */
export function renderMarkdown(source: string): string {
  const html = marked.parse(visibleText(source)) as string;
  return purifier.sanitize(html, PURIFY_CONFIG) as unknown as string;
}
