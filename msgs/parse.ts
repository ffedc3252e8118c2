/**
 * A small reader for ROS 2 `.msg` text: just enough to generate TypeScript types and to
 * list a type's dependencies. Wire encoding itself is done by @foxglove/rosmsg2-serialization.
 */
export const PRIMITIVES = new Set([
  'bool', 'byte', 'char', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
  'float32', 'float64', 'string', 'wstring',
]);

export interface MsgField {
  name: string;
  /** Primitive name, or a full type name `pkg/msg/Name`. */
  type: string;
  isArray: boolean;
  arrayLength?: number;
  isConstant: boolean;
  value?: string;
}

export class MsgParseError extends Error {
  constructor(typeName: string, line: number, message: string) {
    super(`${typeName}:${line}: ${message}`);
    this.name = 'MsgParseError';
  }
}

/** `pkg/Name` or `pkg/msg/Name` → `pkg/msg/Name`; a bare `Name` resolves in `pkg`. */
export function fullTypeName(type: string, pkg: string): string {
  if (PRIMITIVES.has(type)) return type;
  if (type === 'time' || type === 'duration') throw new Error(`ROS 1 type '${type}' is not valid in ROS 2; use builtin_interfaces/Time or Duration`);
  if (type === 'Header') return 'std_msgs/msg/Header';
  const parts = type.split('/');
  if (parts.length === 1) return `${pkg}/msg/${type}`;
  if (parts.length === 2) return `${parts[0]}/msg/${parts[1]}`;
  if (parts.length === 3) return type;
  throw new Error(`bad type name '${type}'`);
}

/**
 * ROS 2's name rules (a letter, then letters, digits and single underscores, not ending in one),
 * checked in linear time: @foxglove/rosmsg checks them with `^[a-z](?:_?[a-z0-9]+)*$`, which
 * backtracks exponentially on a long name that fails at its end (a bag's damaged schema took
 * seconds, found by the bag-mcap fuzz target), so a bad name must fail here first.
 */
function validName(name: string, constant: boolean): boolean {
  return (constant ? /^[A-Z][A-Z0-9_]*$/ : /^[a-z][a-z0-9_]*$/).test(name) && !name.includes('__') && !name.endsWith('_');
}

export function parseMsg(typeName: string, text: string): MsgField[] {
  const pkg = typeName.split('/')[0];
  const fields: MsgField[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const m = /^([\w/]+(?:<=\d+)?)(\[(\d*)\]|\[<=\d+\])?\s+(\w+)\s*(=\s*(.*)|\s+(.*))?$/.exec(line);
    if (!m) throw new MsgParseError(typeName, i + 1, `cannot parse '${raw.trim()}'`);
    const [, baseType, arr, len, name, , constVal, defaultVal] = m;
    if (!validName(name, constVal !== undefined)) throw new MsgParseError(typeName, i + 1, `invalid ${constVal !== undefined ? 'constant' : 'field'} name '${name.slice(0, 80)}'`);
    let type: string;
    try {
      type = fullTypeName(baseType.replace(/<=\d+$/, ''), pkg);
    } catch (e) {
      throw new MsgParseError(typeName, i + 1, (e as Error).message);
    }
    fields.push({
      name,
      type,
      isArray: arr !== undefined,
      arrayLength: len ? Number(len) : undefined,
      isConstant: constVal !== undefined,
      value: constVal ?? defaultVal,
    });
  });
  return fields;
}
