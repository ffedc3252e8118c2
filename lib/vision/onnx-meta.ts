/**
 * Reads the model's metadata_props (ONNX ModelProto field 14) straight from the protobuf
 * bytes: ONNX Runtime for Node does not expose them, and Ultralytics exports keep the class
 * names and image size there, which lets a stock YOLOv8n/YOLO11n export run by config only.
 */
export interface OnnxMetadata {
  [key: string]: string | undefined;
  names?: string;
  imgsz?: string;
}

function varint(b: Uint8Array, pos: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.length) throw new Error('truncated varint');
    const byte = b[pos++];
    v += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) return [v, pos];
    mul *= 128;
  }
  throw new Error('varint too long');
}

/** Walks the top-level fields of a message, calling `onField` for length-delimited ones. */
function walk(b: Uint8Array, onField: (field: number, start: number, end: number) => void): void {
  let pos = 0;
  while (pos < b.length) {
    const [key, p1] = varint(b, pos);
    pos = p1;
    const field = Math.floor(key / 8);
    switch (key & 7) {
      case 0:
        pos = varint(b, pos)[1];
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const [len, p2] = varint(b, pos);
        if (p2 + len > b.length) throw new Error('truncated field');
        onField(field, p2, p2 + len);
        pos = p2 + len;
        break;
      }
      default:
        throw new Error(`unsupported wire type ${key & 7}`);
    }
  }
}

/** Metadata key/values, or {} when the bytes are not a readable ModelProto (ORT reports that better). */
export function readOnnxMetadata(bytes: Uint8Array): OnnxMetadata {
  const out: OnnxMetadata = {};
  const dec = new TextDecoder();
  try {
    walk(bytes, (field, start, end) => {
      if (field !== 14) return;
      let k = '';
      let v = '';
      walk(bytes.subarray(start, end), (f, s, e) => {
        const text = dec.decode(bytes.subarray(start + s, start + e));
        if (f === 1) k = text;
        else if (f === 2) v = text;
      });
      if (k) out[k] = v;
    });
  } catch {
    return {};
  }
  return out;
}

/**
 * Class names as Ultralytics writes them (`{0: 'person', 1: 'bicycle'}`), or a JSON list.
 * Returns undefined when the text has neither form.
 */
export function parseClassNames(text: string): string[] | undefined {
  const t = text.trim();
  if (t.startsWith('[')) {
    try {
      const arr: unknown = JSON.parse(t);
      if (Array.isArray(arr) && arr.every((x) => typeof x === 'string')) return arr as string[];
    } catch {
      return undefined;
    }
    return undefined;
  }
  const names: string[] = [];
  const re = /(\d+)\s*:\s*(['"])((?:\\.|(?!\2).)*)\2/g;
  for (let m = re.exec(t); m; m = re.exec(t)) names[Number(m[1])] = m[3];
  if (names.length === 0) return undefined;
  // `some` skips holes in a sparse array: check every index.
  for (let i = 0; i < names.length; i++) if (names[i] === undefined) return undefined;
  return names;
}
