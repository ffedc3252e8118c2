/**
 * Launch files as data: `.launch.xml` and `.launch.yaml` both parse into one tree of entities
 * (tag, attributes, children, file:line), like launch's frontend `Entity`. Nothing is evaluated here.
 */
import { SaxesParser } from 'saxes';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';

export class LaunchError extends Error {
  constructor(readonly file: string, readonly line: number | undefined, detail: string) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${detail}`);
    this.name = 'LaunchError';
  }
}

/** An attribute value: text (subject to substitutions), or a YAML list of texts (`value: [1, 2]`). */
export type AttrValue = { kind: 'text'; text: string } | { kind: 'list'; items: string[] };

export interface Entity {
  /** Tag with `-` normalized to `_` (`push-ros-namespace` → `push_ros_namespace`). */
  type: string;
  /** The tag as written, for messages. */
  tag: string;
  /** Attribute names normalized like tags. */
  attrs: Map<string, AttrValue>;
  children: Entity[];
  file: string;
  line: number;
}

export const norm = (s: string): string => s.replace(/-/g, '_');

// ---------------------------------------------------------------------------------------------
// XML

export function parseLaunchXml(src: string, file: string): Entity {
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: Entity[] = [];
  let root: Entity | undefined;
  let startLine = 1;
  let error: LaunchError | undefined;
  parser.on('opentagstart', () => {
    startLine = parser.line;
  });
  parser.on('opentag', (tag) => {
    const attrs = new Map<string, AttrValue>();
    for (const [k, v] of Object.entries(tag.attributes)) attrs.set(norm(k), { kind: 'text', text: String(v) });
    const e: Entity = { type: norm(tag.name), tag: tag.name, attrs, children: [], file, line: startLine };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(e);
    else if (!root) root = e;
    stack.push(e);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('text', (t) => {
    if (t.trim() !== '' && !error) error = new LaunchError(file, parser.line, `unexpected text '${t.trim().slice(0, 40)}' (launch XML carries everything in tags and attributes)`);
  });
  parser.on('cdata', () => {
    if (!error) error = new LaunchError(file, parser.line, 'CDATA sections are not supported in launch files');
  });
  parser.on('error', (e) => {
    // saxes prefixes messages with file-less "line:col: "; keep only the reason.
    if (!error) error = new LaunchError(file, parser.line, `invalid XML: ${e.message.replace(/^[^:]*:\d+:\d+: /, '')}`);
  });
  try {
    parser.write(src).close();
  } catch (e) {
    if (!error) error = new LaunchError(file, parser.line, `invalid XML: ${(e as Error).message.replace(/^[^:]*:\d+:\d+: /, '')}`);
  }
  if (error) throw error;
  if (!root) throw new LaunchError(file, 1, 'empty launch file (expected a <launch> root element)');
  if (root.type !== 'launch') throw new LaunchError(file, root.line, `root element is <${root.tag}>, expected <launch>`);
  return root;
}

// ---------------------------------------------------------------------------------------------
// YAML

/** Keys whose value is a list of child entities of that type (`param: [{name, value}]`). */
const CHILD_LIST_KEYS = new Set(['param', 'remap', 'env', 'arg', 'choice', 'composable_node', 'extra_arg', 'keep']);

export function parseLaunchYaml(src: string, file: string): Entity {
  const lc = new LineCounter();
  const doc = parseDocument(src, { schema: 'failsafe', lineCounter: lc, uniqueKeys: true });
  const lineOf = (n: YamlNode | null | undefined): number => lc.linePos(n?.range?.[0] ?? 0).line;
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new LaunchError(file, e.linePos?.[0].line, `invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const root = doc.contents as YamlNode | null;
  if (!root || !isMap(root) || root.items.length !== 1 || !isScalar(root.items[0]!.key) || String((root.items[0]!.key as YamlNode & { value: unknown }).value) !== 'launch') {
    throw new LaunchError(file, lineOf(root), "expected a single top-level key 'launch:' holding a list of actions");
  }
  const scalarText = (n: YamlNode): string => {
    if (!isScalar(n)) throw new LaunchError(file, lineOf(n), 'expected a scalar value');
    return String(n.value);
  };

  const actionList = (node: YamlNode | null, where: YamlNode | null): Entity[] => {
    if (node === null || (isScalar(node) && String(node.value) === '')) return [];
    if (!isSeq(node)) throw new LaunchError(file, lineOf(node ?? where), 'expected a list of actions (`- node: {...}`)');
    return node.items.map((it) => {
      const n = it as YamlNode;
      if (!isMap(n) || n.items.length !== 1) throw new LaunchError(file, lineOf(n), 'each action is a map with exactly one key, e.g. `- node: {pkg: ..., exec: ...}`');
      const pair = n.items[0]!;
      return entityFrom(scalarText(pair.key as YamlNode), pair.value as YamlNode | null, lineOf(pair.key as YamlNode));
    });
  };

  const entityFrom = (tag: string, body: YamlNode | null, line: number): Entity => {
    const e: Entity = { type: norm(tag), tag, attrs: new Map(), children: [], file, line };
    if (body === null || (isScalar(body) && String(body.value) === '')) return e;
    if (isSeq(body)) {
      e.children = actionList(body, body);
      return e;
    }
    if (!isMap(body)) throw new LaunchError(file, lineOf(body), `<${tag}>: expected a map of attributes or a list of actions`);
    for (const pair of body.items) {
      const key = scalarText(pair.key as YamlNode);
      const k = norm(key);
      const v = pair.value as YamlNode | null;
      if (k === 'children') {
        e.children.push(...actionList(v, pair.key as YamlNode));
      } else if (CHILD_LIST_KEYS.has(k) && v !== null && isSeq(v) && v.items.every((x) => isMap(x as YamlNode))) {
        for (const it of v.items) e.children.push(entityFrom(key, it as YamlNode, lineOf(it as YamlNode)));
      } else if (v === null) {
        e.attrs.set(k, { kind: 'text', text: '' });
      } else if (isScalar(v)) {
        e.attrs.set(k, { kind: 'text', text: String(v.value) });
      } else if (isSeq(v)) {
        const items = v.items.map((x) => {
          const n = x as YamlNode;
          if (!isScalar(n)) throw new LaunchError(file, lineOf(n), `<${tag}> attribute '${key}': lists may hold scalars only`);
          return String(n.value);
        });
        e.attrs.set(k, { kind: 'list', items });
      } else {
        throw new LaunchError(file, lineOf(v), `<${tag}> attribute '${key}': unexpected map (children go under a list)`);
      }
    }
    return e;
  };

  const launchPair = root.items[0]!;
  const launch: Entity = { type: 'launch', tag: 'launch', attrs: new Map(), children: [], file, line: lineOf(launchPair.key as YamlNode) };
  launch.children = actionList(launchPair.value as YamlNode | null, launchPair.key as YamlNode);
  return launch;
}

/** Picks the parser by extension (`.launch.py` files are run by python.ts, not parsed here). */
export function parseLaunchText(src: string, file: string): Entity {
  if (/\.py$/.test(file)) throw new LaunchError(file, undefined, 'Python launch files are evaluated with python3 (resolveLaunch does it), not parsed as text');
  if (/\.xml$/i.test(file)) return parseLaunchXml(src, file);
  if (/\.ya?ml$/i.test(file)) return parseLaunchYaml(src, file);
  throw new LaunchError(file, undefined, 'unknown launch file type (expected .launch.xml or .launch.yaml)');
}
