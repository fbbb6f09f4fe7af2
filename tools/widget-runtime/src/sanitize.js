// Stand-in for sanitize-html (about 240 KB) in the light runtime: the same allow-list
// that @jupyter-widgets/base-manager gives it for `description_allow_html`, applied
// with the browser's own parser. Everything not allowed is dropped (text is kept).
const TAGS = new Set(['a', 'abbr', 'b', 'code', 'em', 'i', 'img', 'li', 'ol', 'span', 'strong', 'ul']);
const ATTRIBUTES = { a: ['href'], img: ['src'] };
const SAFE_URL = /^(https?:|mailto:|#|\/|\.{0,2}\/|[^:]*$)/i;

function clean(node, doc) {
  for (const child of [...node.childNodes]) {
    if (child.nodeType === 3) continue;
    if (child.nodeType !== 1) { child.remove(); continue; }
    const tag = child.tagName.toLowerCase();
    clean(child, doc);
    if (!TAGS.has(tag)) {
      if (tag === 'script' || tag === 'style') child.remove();
      else child.replaceWith(...child.childNodes);
      continue;
    }
    for (const { name, value } of [...child.attributes]) {
      const allowed = ['class', 'style', 'title'].includes(name) || name.startsWith('aria-')
        || (ATTRIBUTES[tag] || []).includes(name);
      const url = name === 'href' || name === 'src';
      if (!allowed || (url && !SAFE_URL.test(value.trim()))) child.removeAttribute(name);
    }
  }
}

export default function sanitize(html) {
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
  clean(doc.body, doc);
  return doc.body.innerHTML;
}
