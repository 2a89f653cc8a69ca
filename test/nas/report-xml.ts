/**
 * A small well-formedness checker for the reports (no XML library in the project): every tag closed in
 * order, attributes quoted, no stray `<` or `&`. In HTML mode, void elements need no closing tag and
 * <script>/<style> bodies are raw text.
 */
const VOID = new Set(['meta', 'link', 'br', 'hr', 'img', 'input']);

export function checkWellFormed(text: string, mode: 'xml' | 'html' = 'xml'): string[] {
  const errors: string[] = [];
  const stack: string[] = [];
  let i = 0;
  let roots = 0;
  const tag = /^<(\/?)([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = text.slice(i, lt < 0 ? text.length : lt);
    const badAmp = /&(?!(amp|lt|gt|quot|#39|#\d+|#x[0-9a-fA-F]+);)/.exec(chunk);
    if (badAmp) errors.push(`stray & at ${i + badAmp.index}`);
    if (lt < 0) break;
    const rest = text.slice(lt);
    if (rest.startsWith('<!--')) {
      const end = text.indexOf('-->', lt);
      if (end < 0) { errors.push('unclosed comment'); break; }
      i = end + 3;
      continue;
    }
    if (/^<!DOCTYPE/i.test(rest) || rest.startsWith('<?xml')) {
      i = text.indexOf('>', lt) + 1;
      continue;
    }
    const m = tag.exec(rest);
    if (!m) {
      errors.push(`malformed tag at ${lt}: ${rest.slice(0, 40)}`);
      i = lt + 1;
      continue;
    }
    const [whole, close, name, attrs, selfClose] = m;
    const names = [...attrs.matchAll(/([A-Za-z_:][\w:.-]*)\s*=/g)].map((a) => a[1]);
    if (new Set(names).size !== names.length) errors.push(`duplicate attribute in <${name}> at ${lt}`);
    i = lt + whole.length;
    if (close) {
      const open = stack.pop();
      if (open !== name) errors.push(`</${name}> at ${lt} closes <${open ?? 'nothing'}>`);
    } else if (selfClose || (mode === 'html' && VOID.has(name.toLowerCase()))) {
      if (stack.length === 0) roots++;
    } else {
      if (stack.length === 0) roots++;
      stack.push(name);
      if (mode === 'html' && (name === 'script' || name === 'style')) {
        const end = text.indexOf(`</${name}>`, i);
        if (end < 0) { errors.push(`unclosed <${name}>`); break; }
        i = end;
      }
    }
  }
  if (stack.length) errors.push(`unclosed: ${stack.join(' > ')}`);
  if (mode === 'xml' && roots !== 1) errors.push(`expected one root element, found ${roots}`);
  return errors;
}
