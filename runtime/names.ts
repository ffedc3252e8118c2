/** ROS 2 name resolution: absolute, relative (to the namespace) and private (`~`) names, then remapping. */
export interface Remap {
  from: string;
  to: string;
  /** Applies to this node name only (`-r node:from:=to`). */
  node?: string;
}

export function joinNs(namespace: string, name: string): string {
  const ns = namespace === '' || namespace === '/' ? '' : namespace.replace(/\/+$/, '');
  return `${ns.startsWith('/') || ns === '' ? ns : `/${ns}`}/${name}`.replace(/\/+/g, '/');
}

export function expandName(name: string, namespace: string, node: string): string {
  if (name.startsWith('/')) return name;
  if (name === '~') return joinNs(namespace, node);
  if (name.startsWith('~/')) return joinNs(joinNs(namespace, node), name.slice(2));
  return joinNs(namespace, name);
}

export function resolveTopic(name: string, namespace: string, node: string, remaps: readonly Remap[]): string {
  const full = expandName(name, namespace, node);
  for (const r of remaps) {
    if (r.node !== undefined && r.node !== node) continue;
    if (r.from.startsWith('__')) continue;
    if (expandName(r.from, namespace, node) === full) return expandName(r.to, namespace, node);
  }
  return full;
}
