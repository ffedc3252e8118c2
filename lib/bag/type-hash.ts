/**
 * ROS 2 type hashes (RIHS01, REP-2011), as Jazzy's rosidl_generator_type_description computes
 * them: sha256 over the JSON of the type's description (fields: name and type id, capacity,
 * string capacity, nested type name; no defaults, no constants) followed by every referenced
 * type's description, sorted by name, written with Python's `json.dumps(separators=(', ', ': '))`.
 * Input is rosbag2-style schema text (the type's .msg, then `MSG: pkg/Name` sections).
 */
import { createHash } from 'node:crypto';

/** .msg primitive → rosidl FieldType id of the scalar (msg `char` is IDL uint8, `byte` is octet). */
const SCALAR_IDS: Record<string, number> = {
  int8: 2, uint8: 3, char: 3, int16: 4, uint16: 5, int32: 6, uint32: 7, int64: 8, uint64: 9,
  float32: 10, float64: 11, bool: 15, byte: 16, string: 17, wstring: 18,
};
const NESTED = 1;
const BOUNDED_STRING = 21;
const BOUNDED_WSTRING = 22;
const ARRAY = 48;
const BOUNDED_SEQUENCE = 96;
const UNBOUNDED_SEQUENCE = 144;

interface FieldType {
  type_id: number;
  capacity: number;
  string_capacity: number;
  nested_type_name: string;
}
interface TypeDescription {
  type_name: string;
  fields: { name: string; type: FieldType }[];
}

export class TypeHashError extends Error {
  constructor(typeName: string, detail: string) {
    super(`cannot compute the type hash of ${typeName}: ${detail}`);
    this.name = 'TypeHashError';
  }
}

/** `pkg/Name`, `pkg/msg/Name` or a bare `Name` (same package; `Header` is std_msgs) → `pkg/msg/Name`. */
function fullName(type: string, pkg: string): string {
  const parts = type.split('/');
  if (parts.length === 3) return type;
  // A service's parts (X_Request, X_Response, X_Event) live under `srv`, as in rosidl.
  if (parts.length === 2) return `${parts[0]}/${/_(Request|Response|Event)$/.test(parts[1]) ? 'srv' : 'msg'}/${parts[1]}`;
  return type === 'Header' ? 'std_msgs/msg/Header' : `${pkg}/msg/${type}`;
}

function describeField(typeText: string, pkg: string, owner: string): FieldType {
  const m = /^([\w/]+)(?:<=(\d+))?(?:\[(<=)?(\d*)\])?$/.exec(typeText);
  if (!m) throw new TypeHashError(owner, `cannot parse field type '${typeText}'`);
  const [, base, strBound, seqBounded, size] = m;
  let id: number;
  let nested = '';
  let stringCapacity = 0;
  if (base === 'string' || base === 'wstring') {
    id = strBound !== undefined ? (base === 'string' ? BOUNDED_STRING : BOUNDED_WSTRING) : SCALAR_IDS[base];
    stringCapacity = strBound !== undefined ? Number(strBound) : 0;
  } else if (base in SCALAR_IDS) {
    id = SCALAR_IDS[base];
  } else {
    if (strBound !== undefined) throw new TypeHashError(owner, `bound on non-string type '${typeText}'`);
    id = NESTED;
    nested = fullName(base, pkg);
  }
  let capacity = 0;
  if (typeText.includes('[')) {
    if (seqBounded) {
      id += BOUNDED_SEQUENCE;
      capacity = Number(size);
    } else if (size !== '') {
      id += ARRAY;
      capacity = Number(size);
    } else id += UNBOUNDED_SEQUENCE;
  }
  // rosidl reports the bound of a bounded sequence as its capacity too.
  return { type_id: id, capacity, string_capacity: stringCapacity, nested_type_name: nested };
}

/** One .msg text → its individual description (constants skipped, empty → rosidl's placeholder member). */
function describe(typeName: string, text: string): TypeDescription {
  const pkg = typeName.split('/')[0];
  const fields: TypeDescription['fields'] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const m = /^(\S+)\s+(\w+)(\s*=)?/.exec(line);
    if (!m) throw new TypeHashError(typeName, `cannot parse line '${line}'`);
    if (m[3]) continue; // constant
    fields.push({ name: m[2], type: describeField(m[1], pkg, typeName) });
  }
  if (fields.length === 0) fields.push({ name: 'structure_needs_at_least_one_member', type: { type_id: SCALAR_IDS.uint8, capacity: 0, string_capacity: 0, nested_type_name: '' } });
  return { type_name: typeName, fields };
}

/** Splits rosbag2 schema text into `pkg/msg/Name` → .msg text. */
function sections(typeName: string, schemaText: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = schemaText.split(/\r?\n?={10,}\r?\n/);
  out.set(fullName(typeName, ''), parts[0]);
  for (const s of parts.slice(1)) {
    const m = /^MSG:\s*(\S+)\s*\r?\n?([\s\S]*)$/.exec(s);
    if (m) out.set(fullName(m[1], ''), m[2]);
  }
  return out;
}

/** Python json.dumps with ensure_ascii (non-ASCII as \uXXXX) and the `, ` / `: ` separators. */
function pyJson(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyJson(k)}: ${pyJson(x)}`).join(', ')}}`;
}

/** `RIHS01_<sha256 hex>` of `typeName`, given its full rosbag2 schema text (with every dependency). */
export function typeDescriptionHash(typeName: string, schemaText: string): string {
  const root = fullName(typeName, '');
  const texts = sections(root, schemaText);
  const descs = new Map<string, TypeDescription>();
  const get = (t: string): TypeDescription => {
    let d = descs.get(t);
    if (!d) {
      const text = texts.get(t);
      if (text === undefined) throw new TypeHashError(root, `the schema does not define ${t}`);
      d = describe(t, text);
      descs.set(t, d);
    }
    return d;
  };
  const refs = new Set<string>();
  const queue = get(root).fields.map((f) => f.type.nested_type_name).filter(Boolean);
  while (queue.length > 0) {
    const t = queue.pop() as string;
    if (refs.has(t)) continue;
    refs.add(t);
    queue.push(...get(t).fields.map((f) => f.type.nested_type_name).filter(Boolean));
  }
  // Python sorts by code point; so does a plain JS sort of ASCII names.
  const full = { type_description: get(root), referenced_type_descriptions: [...refs].sort().map(get) };
  return `RIHS01_${createHash('sha256').update(pyJson(full), 'utf8').digest('hex')}`;
}
