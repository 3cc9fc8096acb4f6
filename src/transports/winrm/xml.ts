// A small non-validating XML reader for SOAP envelopes (no npm XML dependency). Elements are matched
// by namespace URI and local name, never by prefix: Windows writes `s:`/`rsp:`, pywinrm writes `env:`,
// and both are the same envelope. DTDs are refused outright (no entity expansion games).

export interface XmlElement {
  /** Namespace URI ('' when unqualified). */
  ns: string;
  local: string;
  /** Attributes by local name (prefixes dropped; `xmlns` declarations left out). */
  attrs: Map<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

export class XmlError extends Error {
  constructor(message: string) {
    super(`XML: ${message}`);
    this.name = 'XmlError';
  }
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/;
const ATTR = /\s*([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/y;

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (_m, e: string) => {
    switch (e) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
      default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

interface Open {
  qname: string;
  el: XmlElement;
  scope: Map<string, string>;
}

function resolve(qname: string, scope: Map<string, string>, isAttr: boolean): { ns: string; local: string } {
  const colon = qname.indexOf(':');
  if (colon < 0) return { ns: isAttr ? '' : (scope.get('') ?? ''), local: qname };
  const prefix = qname.slice(0, colon);
  if (prefix === 'xml') return { ns: XML_NS, local: qname.slice(colon + 1) };
  const ns = scope.get(prefix);
  if (ns === undefined) throw new XmlError(`undeclared prefix ${prefix}`);
  return { ns, local: qname.slice(colon + 1) };
}

function isNamespaceDeclaration(name: string): boolean {
  return name === 'xmlns' || name.startsWith('xmlns:');
}

/** One pass over a document: text and markup in turn, open elements on a stack. */
class XmlReader {
  private readonly stack: Open[] = [];
  private readonly rootScope = new Map<string, string>();
  private root: XmlElement | undefined;

  constructor(private readonly src: string) {}

  parse(): XmlElement {
    const { src } = this;
    let i = src.charCodeAt(0) === 0xfeff ? 1 : 0;
    while (i < src.length) {
      const lt = src.indexOf('<', i);
      this.text(i, lt < 0 ? src.length : lt);
      if (lt < 0) break;
      i = this.markup(lt);
    }
    if (this.stack.length > 0) throw new XmlError(`unclosed element ${this.top!.qname}`);
    if (!this.root) throw new XmlError('no root element');
    return this.root;
  }

  private get top(): Open | undefined {
    return this.stack[this.stack.length - 1];
  }

  private text(from: number, to: number): void {
    if (to <= from) return;
    const text = this.src.slice(from, to);
    if (this.top) this.top.el.text += decodeEntities(text);
    else if (text.trim() !== '') throw new XmlError('text outside the root element');
  }

  /** Reads the markup that starts at `lt`; returns the index after it. */
  private markup(lt: number): number {
    const { src } = this;
    if (src.startsWith('<?', lt)) return this.skip(lt, '?>', 'processing instruction');
    if (src.startsWith('<!--', lt)) return this.skip(lt, '-->', 'comment');
    if (src.startsWith('<![CDATA[', lt)) return this.cdata(lt);
    if (src.startsWith('<!', lt)) throw new XmlError('DTDs are not accepted');
    if (src[lt + 1] === '/') return this.endTag(lt);
    return this.startTag(lt);
  }

  private skip(lt: number, terminator: string, what: string): number {
    const end = this.src.indexOf(terminator, lt);
    if (end < 0) throw new XmlError(`unterminated ${what}`);
    return end + terminator.length;
  }

  private cdata(lt: number): number {
    const end = this.src.indexOf(']]>', lt);
    if (end < 0) throw new XmlError('unterminated CDATA');
    if (!this.top) throw new XmlError('CDATA outside the root element');
    this.top.el.text += this.src.slice(lt + 9, end);
    return end + 3;
  }

  private endTag(lt: number): number {
    const { src } = this;
    const m = NAME.exec(src.slice(lt + 2, lt + 2 + 256));
    const top = this.stack.pop();
    if (!m || !top || top.qname !== m[0]) throw new XmlError(`mismatched end tag at ${lt}`);
    const close = src.indexOf('>', lt);
    if (close < 0 || src.slice(lt + 2 + m[0].length, close).trim() !== '') throw new XmlError('malformed end tag');
    return close + 1;
  }

  private startTag(lt: number): number {
    const { src } = this;
    const m = NAME.exec(src.slice(lt + 1, lt + 1 + 256));
    if (!m) throw new XmlError(`malformed tag at ${lt}`);
    const qname = m[0];
    let p = lt + 1 + qname.length;
    const raw: Array<[string, string]> = [];
    ATTR.lastIndex = p;
    for (let a = ATTR.exec(src); a; a = ATTR.exec(src)) {
      raw.push([a[1]!, decodeEntities(a[3] ?? a[4] ?? '')]);
      p = ATTR.lastIndex;
    }
    while (p < src.length && /\s/.test(src[p]!)) p++;
    const selfClosing = src[p] === '/';
    if (selfClosing) p++;
    if (src[p] !== '>') throw new XmlError(`malformed tag ${qname}`);
    this.open(qname, raw, selfClosing);
    return p + 1;
  }

  /** Adds an element, its names resolved in the scope its own xmlns attributes extend. */
  private open(qname: string, raw: Array<[string, string]>, selfClosing: boolean): void {
    const parentScope = this.top?.scope ?? this.rootScope;
    let scope = parentScope;
    for (const [name, value] of raw) {
      if (!isNamespaceDeclaration(name)) continue;
      if (scope === parentScope) scope = new Map(parentScope);
      scope.set(name === 'xmlns' ? '' : name.slice(6), value);
    }
    const { ns, local } = resolve(qname, scope, false);
    const attrs = new Map<string, string>();
    for (const [name, value] of raw) {
      if (!isNamespaceDeclaration(name)) attrs.set(resolve(name, scope, true).local, value);
    }
    const el: XmlElement = { ns, local, attrs, children: [], text: '' };
    if (this.top) this.top.el.children.push(el);
    else if (this.root) throw new XmlError('more than one root element');
    else this.root = el;
    if (!selfClosing) this.stack.push({ qname, el, scope });
  }
}

/** Parses a document and returns its root element. */
export function parseXml(input: string | Buffer): XmlElement {
  return new XmlReader(typeof input === 'string' ? input : input.toString('utf8')).parse();
}

export function child(el: XmlElement | undefined, ns: string, local: string): XmlElement | undefined {
  return el?.children.find((c) => c.ns === ns && c.local === local);
}

export function children(el: XmlElement | undefined, ns: string, local: string): XmlElement[] {
  return el ? el.children.filter((c) => c.ns === ns && c.local === local) : [];
}

/** Follows a path of [ns, local] steps from `el`. */
export function path(el: XmlElement | undefined, ...steps: Array<[string, string]>): XmlElement | undefined {
  let cur = el;
  for (const [ns, local] of steps) cur = child(cur, ns, local);
  return cur;
}

/** Every element below `el` (depth first) with that name. */
export function descendants(el: XmlElement, ns: string, local: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    for (const c of e.children) {
      if (c.ns === ns && c.local === local) out.push(c);
      walk(c);
    }
  };
  walk(el);
  return out;
}

const ESCAPES: Record<string, string> = {
  '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;', '\r': '&#13;', '\n': '&#10;', '\t': '&#9;',
};

/** Escapes text or an attribute value. */
export function xmlEscape(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(value)) throw new XmlError('control characters cannot travel in XML 1.0');
  // CR, LF and TAB as character references: a parser would otherwise normalise them away.
  return value.replace(/[<>&"'\r\n\t]/g, (c) => ESCAPES[c]!);
}
