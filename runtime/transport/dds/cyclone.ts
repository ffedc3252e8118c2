/**
 * Eclipse Cyclone DDS 0.10 (`libddsc.so.0`, Debian `cyclonedds-dev` / `libddsc0debian`) through koffi.
 * Only the plain C API is used, plus the serdata functions 0.10 exports for language bindings
 * (`ddsi_serdata_from_ser_iov`, `ddsi_serdata_to_ser`, `ddsi_serdata_size`, `ddsi_serdata_unref`).
 *
 * How CDR bytes cross without Cyclone ever seeing a sample (see README.md, "How the bytes cross"):
 * each topic gets a topic descriptor for a one-octet final struct (ops = [ADR|1BY, 0, RTS]; 0.10.2 refuses an
 * empty one) named with the ROS 2 type name. Cyclone's default serdata keeps the received payload whole and only
 * "normalizes" (validates and byte-swaps) what the ops describe, here the first octet; so `dds_takecdr` hands back
 * exactly the peer's encapsulated XCDR1 bytes, and `dds_writecdr` sends exactly ours. The codecs in msgs/
 * do the real (de)serialization, and a malformed sample reaches our decoder and is counted there.
 */
import type * as Koffi from 'koffi';
import { lazyNative, requireKoffi } from '../../native.js';

export type Entity = number;
/** Opaque native pointers as koffi hands them out. */
export type Ptr = unknown;

export const DDS_DOMAIN_DEFAULT = 0xffffffff;
export const DDS_ANY_STATE = 1 | 2 | 4 | 8 | 16 | 32 | 64;
export const DDS_BUILTIN_TOPIC_DCPSPUBLICATION = 0x7fff0000 + 3;
export const DDS_BUILTIN_TOPIC_DCPSSUBSCRIPTION = 0x7fff0000 + 4;
export const DDS_DATA_AVAILABLE_STATUS = 1 << 10;
/** enum ddsi_serdata_kind */
const SDK_DATA = 2;
/** dds_durability_kind_t, dds_history_kind_t, dds_reliability_kind_t, dds_liveliness_kind_t */
export const DURABILITY = { volatile: 0, transient_local: 1 } as const;
export const HISTORY = { keep_last: 0, keep_all: 1 } as const;
export const RELIABILITY = { best_effort: 0, reliable: 1 } as const;
export const LIVELINESS = { automatic: 0, manual_by_participant: 1, manual_by_topic: 2 } as const;
export const DDS_INFINITY = 0x7fffffffffffffffn;
/** Offset of `type` in struct ddsi_serdata (ops, hash, refc, kind, type) on LP64. */
const SERDATA_TYPE_OFFSET = 24;

export interface SampleInfo {
  valid_data: boolean;
  source_timestamp: bigint;
  publication_handle: bigint;
}

export interface CycloneLib {
  koffi: typeof Koffi;
  version: string;
  createDomain(id: number, config: string): Entity;
  createParticipant(domain: number, qos: Ptr): Entity;
  createTopic(pp: Entity, desc: Ptr, name: string, qos: Ptr): Entity;
  createWriter(pp: Entity, topic: Entity, qos: Ptr): Entity;
  createReader(pp: Entity, topic: Entity, qos: Ptr): Entity;
  createReadCondition(reader: Entity, mask: number): Entity;
  createWaitset(pp: Entity): Entity;
  waitsetAttach(ws: Entity, e: Entity, x: number): number;
  waitsetDetach(ws: Entity, e: Entity): number;
  waitsetSetTrigger(ws: Entity, on: boolean): number;
  /** Runs on a libuv worker thread: the JavaScript thread never blocks in Cyclone. */
  waitsetWaitAsync(ws: Entity, timeoutNs: bigint, done: (err: unknown, n: number) => void): void;
  delete(e: Entity): number;
  write(writer: Entity, sample: Ptr): number;
  writecdr(writer: Entity, serdata: Ptr): number;
  /** Takes up to `max` samples; returns their serdata pointers and infos. */
  takecdr(reader: Entity, max: number): { data: Ptr[]; infos: SampleInfo[] } | number;
  take(reader: Entity, max: number): { samples: Ptr[]; infos: SampleInfo[]; buf: Ptr[] } | number;
  returnLoan(reader: Entity, buf: Ptr[], n: number): number;
  serdataFromCdr(sertype: Ptr, bytes: Uint8Array): Ptr;
  serdataBytes(d: Ptr): Uint8Array;
  serdataSertype(d: Ptr): Ptr;
  serdataUnref(d: Ptr): void;
  createQos(): Ptr;
  deleteQos(q: Ptr): void;
  qsetReliability(q: Ptr, kind: number, maxBlockingNs: bigint): void;
  qsetDurability(q: Ptr, kind: number): void;
  qsetHistory(q: Ptr, kind: number, depth: number): void;
  qsetDeadline(q: Ptr, ns: bigint): void;
  qsetLiveliness(q: Ptr, kind: number, leaseNs: bigint): void;
  qsetPartition1(q: Ptr, name: string): void;
  qsetUserdata(q: Ptr, bytes: Uint8Array): void;
  qsetDataRepresentationXcdr1(q: Ptr): void;
  /** DDS_IGNORELOCAL_PARTICIPANT: a reader does not see this participant's own writers. */
  qsetIgnoreLocal(q: Ptr): void;
  /** For the DCPSPublication/DCPSSubscription builtin samples (dds_builtintopic_endpoint_t). */
  endpointOf(sample: Ptr): { topic: string; type: string; key: Uint8Array; participantKey: Uint8Array };
  instanceHandle(e: Entity): bigint;
  guidOf(e: Entity): Uint8Array;
  strerror(rc: number): string;
  /** Allocates a dds_topic_descriptor_t for an empty final struct called `typeName` (kept for the process lifetime). */
  opaqueDescriptor(typeName: string): Ptr;
}

const SONAMES = ['libddsc.so.0', 'libddsc.so.0debian', 'libddsc.so'];

/** Cyclone DDS through koffi, or undefined (with `cycloneUnavailable()` saying why). */
const native = lazyNative(() => bind());
export const cyclone = (): CycloneLib | undefined => native.get();

export function cycloneUnavailable(): string | undefined {
  return cyclone() ? undefined : `Cyclone DDS (libddsc.so.0) could not be loaded: ${native.error()}; install the Debian package cyclonedds-dev (or libddsc0debian)`;
}

function bind(): CycloneLib {
  // Bound on first use: processes without `--transport dds` never load koffi.
  const koffi = requireKoffi();
  let so: Koffi.LibraryHandle | undefined;
  const errors: string[] = [];
  for (const name of SONAMES) {
    try {
      so = koffi.load(name);
      break;
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (!so) throw new Error(errors.join('; '));
  const l = so;

  // Registered by name: the function signatures below refer to these structs as 'kestrel_...'.
  koffi.struct('kestrel_dds_sample_info_t', {
    sample_state: 'uint32',
    view_state: 'uint32',
    instance_state: 'uint32',
    valid_data: 'bool',
    source_timestamp: 'int64',
    instance_handle: 'uint64',
    publication_handle: 'uint64',
    disposed_generation_count: 'uint32',
    no_writers_generation_count: 'uint32',
    sample_rank: 'uint32',
    generation_rank: 'uint32',
    absolute_generation_rank: 'uint32',
  });
  koffi.struct('kestrel_ddsrt_iovec_t', { iov_base: 'void *', iov_len: 'size_t' });
  const GuidT = koffi.struct('kestrel_dds_guid_t', { v: koffi.array('uint8', 16, 'Array') });
  const EndpointT = koffi.struct('kestrel_dds_builtintopic_endpoint_t', {
    key: GuidT,
    participant_key: GuidT,
    participant_instance_handle: 'uint64',
    topic_name: 'const char *',
    type_name: 'const char *',
    qos: 'void *',
  });
  const TypeMetaSerT = koffi.struct('kestrel_dds_type_meta_ser', { data: 'void *', sz: 'uint32' });
  const DescriptorT = koffi.struct('kestrel_dds_topic_descriptor_t', {
    m_size: 'uint32',
    m_align: 'uint32',
    m_flagset: 'uint32',
    m_nkeys: 'uint32',
    m_typename: 'void *',
    m_keys: 'void *',
    m_nops: 'uint32',
    m_ops: 'void *',
    m_meta: 'void *',
    type_information: TypeMetaSerT,
    type_mapping: TypeMetaSerT,
    restrict_data_representation: 'uint32',
  });

  const f = {
    createDomain: l.func('int32 dds_create_domain(uint32 domain, const char *config)'),
    createParticipant: l.func('int32 dds_create_participant(uint32 domain, void *qos, void *listener)'),
    createTopic: l.func('int32 dds_create_topic(int32 pp, void *desc, const char *name, void *qos, void *listener)'),
    createWriter: l.func('int32 dds_create_writer(int32 pp, int32 topic, void *qos, void *listener)'),
    createReader: l.func('int32 dds_create_reader(int32 pp, int32 topic, void *qos, void *listener)'),
    createReadCondition: l.func('int32 dds_create_readcondition(int32 reader, uint32 mask)'),
    createWaitset: l.func('int32 dds_create_waitset(int32 pp)'),
    waitsetAttach: l.func('int32 dds_waitset_attach(int32 ws, int32 e, intptr_t x)'),
    waitsetDetach: l.func('int32 dds_waitset_detach(int32 ws, int32 e)'),
    waitsetSetTrigger: l.func('int32 dds_waitset_set_trigger(int32 ws, bool trigger)'),
    waitsetWait: l.func('int32 dds_waitset_wait(int32 ws, void *xs, size_t nxs, int64 reltimeout)'),
    delete: l.func('int32 dds_delete(int32 e)'),
    write: l.func('int32 dds_write(int32 writer, void *sample)'),
    writecdr: l.func('int32 dds_writecdr(int32 writer, void *serdata)'),
    takecdr: l.func('int32 dds_takecdr(int32 reader, _Out_ void **buf, uint32 maxs, _Out_ kestrel_dds_sample_info_t *si, uint32 mask)'),
    take: l.func('int32 dds_take(int32 reader, _Inout_ void **buf, _Out_ kestrel_dds_sample_info_t *si, size_t bufsz, uint32 maxs)'),
    returnLoan: l.func('int32 dds_return_loan(int32 reader, _Inout_ void **buf, int32 bufsz)'),
    fromSerIov: l.func('void *ddsi_serdata_from_ser_iov(void *type, int kind, size_t niov, kestrel_ddsrt_iovec_t *iov, size_t size)'),
    serdataSize: l.func('uint32 ddsi_serdata_size(void *d)'),
    toSer: l.func('void ddsi_serdata_to_ser(void *d, size_t off, size_t sz, _Out_ uint8_t *buf)'),
    unref: l.func('void ddsi_serdata_unref(void *d)'),
    createQos: l.func('void *dds_create_qos()'),
    deleteQos: l.func('void dds_delete_qos(void *q)'),
    qsetReliability: l.func('void dds_qset_reliability(void *q, int kind, int64 max_blocking)'),
    qsetDurability: l.func('void dds_qset_durability(void *q, int kind)'),
    qsetHistory: l.func('void dds_qset_history(void *q, int kind, int32 depth)'),
    qsetDeadline: l.func('void dds_qset_deadline(void *q, int64 deadline)'),
    qsetLiveliness: l.func('void dds_qset_liveliness(void *q, int kind, int64 lease)'),
    qsetPartition1: l.func('void dds_qset_partition1(void *q, const char *name)'),
    qsetUserdata: l.func('void dds_qset_userdata(void *q, const uint8_t *value, size_t sz)'),
    qsetIgnoreLocal: l.func('void dds_qset_ignorelocal(void *q, int ignore)'),
    qsetDataRepresentation: l.func('void dds_qset_data_representation(void *q, uint32 n, const int16_t *values)'),
    getInstanceHandle: l.func('int32 dds_get_instance_handle(int32 e, _Out_ uint64_t *ih)'),
    getGuid: l.func('int32 dds_get_guid(int32 e, _Out_ kestrel_dds_guid_t *guid)'),
    strretcode: l.func('const char *dds_strretcode(int32 rc)'),
  };

  const descriptors: Ptr[] = []; // kept reachable: Cyclone keeps pointers into them
  const cstrings = new Map<string, Ptr>();
  const cstr = (s: string): Ptr => {
    let p = cstrings.get(s);
    if (!p) {
      const bytes = new TextEncoder().encode(s + '\0');
      p = koffi.alloc('uint8', bytes.length);
      koffi.encode(p, 'uint8', Array.from(bytes), bytes.length);
      cstrings.set(s, p);
    }
    return p;
  };
  // struct { octet b; }: DDS_OP_ADR | DDS_OP_TYPE_1BY at offset 0, then DDS_OP_RTS. 0.10.2 refuses an empty ops list.
  const OPAQUE_OPS = koffi.alloc('uint32', 3);
  koffi.encode(OPAQUE_OPS, 'uint32', [(1 << 24) | (1 << 16), 0, 0], 3);

  const waitXs = koffi.alloc('intptr_t', 1);

  return {
    koffi,
    version: '0.10',
    createDomain: (id, config) => f.createDomain(id, config) as number,
    createParticipant: (domain, qos) => f.createParticipant(domain, qos, null) as number,
    createTopic: (pp, desc, name, qos) => f.createTopic(pp, desc, name, qos, null) as number,
    createWriter: (pp, topic, qos) => f.createWriter(pp, topic, qos, null) as number,
    createReader: (pp, topic, qos) => f.createReader(pp, topic, qos, null) as number,
    createReadCondition: (reader, mask) => f.createReadCondition(reader, mask) as number,
    createWaitset: (pp) => f.createWaitset(pp) as number,
    waitsetAttach: (ws, e, x) => f.waitsetAttach(ws, e, x) as number,
    waitsetDetach: (ws, e) => f.waitsetDetach(ws, e) as number,
    waitsetSetTrigger: (ws, on) => f.waitsetSetTrigger(ws, on) as number,
    waitsetWaitAsync: (ws, timeoutNs, done) => {
      f.waitsetWait.async(ws, waitXs, 1, timeoutNs, done);
    },
    delete: (e) => f.delete(e) as number,
    write: (writer, sample) => f.write(writer, sample) as number,
    writecdr: (writer, serdata) => f.writecdr(writer, serdata) as number,
    takecdr: (reader, max) => {
      const buf: Ptr[] = new Array<Ptr>(max).fill(null);
      const infos: Record<string, unknown>[] = Array.from({ length: max }, () => ({}));
      const n = f.takecdr(reader, buf, max, infos, DDS_ANY_STATE) as number;
      if (n < 0) return n;
      return {
        data: buf.slice(0, n),
        infos: infos.slice(0, n).map((i) => ({
          valid_data: i.valid_data as boolean,
          source_timestamp: BigInt(i.source_timestamp as number | bigint),
          publication_handle: BigInt(i.publication_handle as number | bigint),
        })),
      };
    },
    take: (reader, max) => {
      const buf: Ptr[] = new Array<Ptr>(max).fill(null);
      const infos: Record<string, unknown>[] = Array.from({ length: max }, () => ({}));
      const n = f.take(reader, buf, infos, max, max) as number;
      if (n < 0) return n;
      return {
        samples: buf.slice(0, n),
        buf,
        infos: infos.slice(0, n).map((i) => ({
          valid_data: i.valid_data as boolean,
          source_timestamp: BigInt(i.source_timestamp as number | bigint),
          publication_handle: BigInt(i.publication_handle as number | bigint),
        })),
      };
    },
    returnLoan: (reader, buf, n) => f.returnLoan(reader, buf, n) as number,
    serdataFromCdr: (sertype, bytes) => {
      // from_ser_iov copies the bytes into the serdata, so the view need only live for the call.
      const iov = [{ iov_base: bytes, iov_len: bytes.byteLength }];
      return f.fromSerIov(sertype, SDK_DATA, 1, iov, bytes.byteLength) as Ptr;
    },
    serdataBytes: (d) => {
      const size = f.serdataSize(d) as number;
      const out = new Uint8Array(size);
      f.toSer(d, 0, size, out);
      return out;
    },
    serdataSertype: (d) => koffi.decode(d, SERDATA_TYPE_OFFSET, 'void *') as Ptr,
    serdataUnref: (d) => {
      f.unref(d);
    },
    createQos: () => f.createQos() as Ptr,
    deleteQos: (q) => {
      f.deleteQos(q);
    },
    qsetReliability: (q, kind, ns) => {
      f.qsetReliability(q, kind, ns);
    },
    qsetDurability: (q, kind) => {
      f.qsetDurability(q, kind);
    },
    qsetHistory: (q, kind, depth) => {
      f.qsetHistory(q, kind, depth);
    },
    qsetDeadline: (q, ns) => {
      f.qsetDeadline(q, ns);
    },
    qsetLiveliness: (q, kind, ns) => {
      f.qsetLiveliness(q, kind, ns);
    },
    qsetPartition1: (q, name) => {
      f.qsetPartition1(q, name);
    },
    qsetUserdata: (q, bytes) => {
      f.qsetUserdata(q, bytes, bytes.byteLength);
    },
    qsetDataRepresentationXcdr1: (q) => {
      f.qsetDataRepresentation(q, 1, [0]); // DDS_DATA_REPRESENTATION_XCDR1
    },
    qsetIgnoreLocal: (q) => {
      f.qsetIgnoreLocal(q, 1);
    },
    endpointOf: (sample) => {
      const e = koffi.decode(sample, EndpointT) as { key: { v: number[] }; participant_key: { v: number[] }; topic_name: string; type_name: string };
      return { topic: e.topic_name, type: e.type_name, key: Uint8Array.from(e.key.v), participantKey: Uint8Array.from(e.participant_key.v) };
    },
    instanceHandle: (e) => {
      const out = [0n];
      const rc = f.getInstanceHandle(e, out) as number;
      if (rc < 0) throw new Error(`dds_get_instance_handle: ${f.strretcode(rc) as string}`);
      return BigInt(out[0]);
    },
    guidOf: (e) => {
      const out: { v?: number[] } = {};
      const rc = f.getGuid(e, out) as number;
      if (rc < 0) throw new Error(`dds_get_guid: ${f.strretcode(rc) as string}`);
      return Uint8Array.from(out.v ?? []);
    },
    strerror: (rc) => f.strretcode(rc) as string,
    opaqueDescriptor: (typeName) => {
      const p = koffi.alloc(DescriptorT, 1);
      koffi.encode(p, DescriptorT, {
        m_size: 1,
        m_align: 1,
        m_flagset: 1, // DDS_TOPIC_NO_OPTIMIZE: never the memcpy path, which would assume a 1-byte payload
        m_nkeys: 0,
        m_typename: cstr(typeName),
        m_keys: null,
        m_nops: 3,
        m_ops: OPAQUE_OPS,
        m_meta: cstr(''),
        type_information: { data: null, sz: 0 },
        type_mapping: { data: null, sz: 0 },
        restrict_data_representation: 0,
      });
      descriptors.push(p);
      return p;
    },
  };
}
