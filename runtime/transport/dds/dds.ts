/**
 * The DDS transport: an embedded Kestrel joins a ROS 2 system with nothing installed but Cyclone DDS. One DDS
 * participant per process; one DDS writer per locally published topic, one DDS reader per locally subscribed topic,
 * with ROS 2's names (rt/<topic>, <pkg>::msg::dds_::<Type>_), XCDR1 payloads from the msgs/ codecs and QoS mapped as
 * rmw does. The JavaScript thread never blocks in Cyclone: readers are waited on by `dds_waitset_wait` on a libuv
 * worker thread (koffi's async call), and taken from on the JavaScript thread when it returns.
 *
 * Bad input from a peer (a mismatched type name on one of our topics, a wrong encapsulation, a truncated sample) is
 * counted in `stats`, reported once per cause in the log and as errors of the `dds_bridge` stage in diagnostics, and
 * never thrown into the control loop.
 */
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { msgs as defaultRegistry, type MsgRegistry, type MsgTypeName } from '../../../msgs/index.js';
import type { NodeDiagnostics } from '../../diagnostics.js';
import type { Logger } from '../../log.js';
import type { QoS } from '../../qos.js';
import type { OutBridge, Transport } from '../transport.js';
import {
  cyclone,
  cycloneUnavailable,
  DDS_ANY_STATE,
  DDS_BUILTIN_TOPIC_DCPSPUBLICATION,
  DDS_BUILTIN_TOPIC_DCPSSUBSCRIPTION,
  DURABILITY,
  HISTORY,
  LIVELINESS,
  RELIABILITY,
  type CycloneLib,
  type Entity,
  type Ptr,
} from './cyclone.js';
import { DISCOVERY_TOPIC, DISCOVERY_TYPE, discoveryRegistry, participantEntitiesInfo } from './discovery-info.js';
import { cycloneConfig, ddsQosPlan, ddsTopicName, ddsTypeName, encapsulationProblem, parseRefusedSample, rosTopicName, type DdsQosPlan } from './wire.js';

export class DdsUnavailableError extends Error {
  constructor(why: string) {
    super(`--transport dds: ${why}`);
    this.name = 'DdsUnavailableError';
  }
}

export interface DdsTransportOptions {
  /** The Kestrel node's (or launch's) name, shown as the DDS participant's name. */
  nodeName: string;
  namespace?: string;
  /** ROS_DOMAIN_ID (default 0). */
  domainId?: number;
  /**
   * true (the default unless CYCLONEDDS_URI is set): discovery and data stay on 127.0.0.1, in a configuration the
   * transport writes. false, or a CYCLONEDDS_URI in the environment: Cyclone's configuration is the user's.
   */
  loopback?: boolean;
  env?: Readonly<Record<string, string | undefined>>;
  log?: Logger;
  diag?: NodeDiagnostics;
  registry?: MsgRegistry;
}

export interface DdsBridgeStats {
  sent: number;
  received: number;
  /** A peer endpoint on one of our topics with another type name: DDS never matches it, so nothing flows. */
  typeMismatches: number;
  /** Samples whose encapsulation is not XCDR1 little-endian (ours or Cyclone's count). */
  badEncapsulation: number;
  /** Samples the codec could not decode (truncated, corrupt). */
  decodeErrors: number;
  /** Samples Cyclone refused before they reached Kestrel (from its log). */
  refusedByCyclone: number;
  errors: number;
}

interface OutEntry {
  topic: Entity;
  writer: Entity;
  sertype: Ptr;
  type: MsgTypeName;
  refs: number;
}

interface InEntry {
  topic: Entity;
  reader: Entity;
  cond: Entity;
  type: MsgTypeName;
  rosTopic: string;
  deliver: (msg: unknown) => void;
  refs: number;
}

/** Cyclone returns negative dds_return_t codes; this turns one into an Error naming the call. */
function check(c: CycloneLib, rc: number, what: string): number {
  if (rc < 0) throw new Error(`${what}: ${c.strerror(rc)} (${rc})`);
  return rc;
}

const TAKE_BATCH = 64;
const WAIT_NS = 250_000_000n;
const LOG_POLL_MS = 200;

export class DdsTransport implements Transport {
  readonly kind = 'dds' as const;
  readonly stats: DdsBridgeStats = { sent: 0, received: 0, typeMismatches: 0, badEncapsulation: 0, decodeErrors: 0, refusedByCyclone: 0, errors: 0 };
  private readonly outs = new Map<string, OutEntry>();
  private readonly ins = new Map<string, InEntry>();
  private readonly topics = new Map<string, { topic: Entity; type: MsgTypeName; sertype?: Ptr }>();
  private readonly byCond = new Map<number, InEntry>();
  private readonly reported = new Set<string>();
  private readonly registry: MsgRegistry;
  private closed = false;
  private waiting: Promise<void> | undefined;
  private readonly pubReader: Entity;
  private readonly subReader: Entity;
  private readonly builtinConds: Entity[] = [];
  private logFd: number | undefined;
  private logOffset = 0;
  private logRest = '';
  private lastLogPoll = 0;
  private nextAttach = 1;
  /** Every remote endpoint on a ROS 2 topic seen in discovery, by GUID (hex). */
  private readonly remote = new Map<string, { rosTopic: string; ddsTopic: string; type: string; side: string }>();
  private readonly mismatched = new Set<string>();
  private readonly discovery: { topic: Entity; writer: Entity; sertype?: Ptr };
  private announcePending = false;
  readonly participantGuid: Uint8Array;

  private constructor(
    private readonly c: CycloneLib,
    readonly participant: Entity,
    private readonly waitset: Entity,
    readonly domainId: number,
    readonly logFile: string,
    private readonly tmpDir: string | undefined,
    private readonly o: DdsTransportOptions,
  ) {
    this.registry = o.registry ?? defaultRegistry;
    // The builtin DCPSPublication/DCPSSubscription readers show every remote endpoint; one on our topic with another
    // type name never matches (DDS matches by topic and type name), so it is found and reported here.
    this.pubReader = check(c, c.createReader(participant, DDS_BUILTIN_TOPIC_DCPSPUBLICATION, null), 'dds_create_reader(DCPSPublication)');
    this.subReader = check(c, c.createReader(participant, DDS_BUILTIN_TOPIC_DCPSSUBSCRIPTION, null), 'dds_create_reader(DCPSSubscription)');
    for (const r of [this.pubReader, this.subReader]) {
      const cond = check(c, c.createReadCondition(r, DDS_ANY_STATE), 'dds_create_readcondition');
      check(c, c.waitsetAttach(waitset, cond, 0), 'dds_waitset_attach');
      this.builtinConds.push(cond);
    }
    this.participantGuid = c.guidOf(participant);
    this.discovery = this.createDiscoveryWriter();
    this.announce();
    this.loop();
  }

  /** ros_discovery_info's writer: reliable, transient local, keep last 1, as rmw_dds_common has it. */
  private createDiscoveryWriter(): { topic: Entity; writer: Entity; sertype?: Ptr } {
    const c = this.c;
    const topic = check(c, c.createTopic(this.participant, c.opaqueDescriptor(ddsTypeName(DISCOVERY_TYPE)), DISCOVERY_TOPIC, null), `dds_create_topic(${DISCOVERY_TOPIC})`);
    const d: { topic: Entity; writer: Entity; sertype?: Ptr } = { topic, writer: 0 };
    this.sertypeOf(d, DISCOVERY_TOPIC);
    const q = this.qos(ddsQosPlan({ reliability: 'reliable', durability: 'transient_local', history: 'keep_last', depth: 1 }), false);
    try {
      d.writer = check(c, c.createWriter(this.participant, topic, q), `dds_create_writer(${DISCOVERY_TOPIC})`);
    } finally {
      c.deleteQos(q);
    }
    return d;
  }

  /** Publishes this participant's node and endpoints on ros_discovery_info (coalesced: once per turn of the event loop). */
  private announce(): void {
    if (this.announcePending || this.closed) return;
    this.announcePending = true;
    setImmediate(() => {
      this.announcePending = false;
      if (this.closed) return;
      try {
        const node = {
          namespace: this.o.namespace ?? '/',
          name: this.o.nodeName,
          readers: [...this.ins.values()].map((e) => this.c.guidOf(e.reader)),
          writers: [...this.outs.values()].map((e) => this.c.guidOf(e.writer)),
        };
        const bytes = discoveryRegistry.encode(DISCOVERY_TYPE, participantEntitiesInfo(this.participantGuid, [node]));
        const sd = this.c.serdataFromCdr(this.discovery.sertype, bytes);
        if (!sd) throw new Error('Cyclone refused the serialized sample');
        check(this.c, this.c.writecdr(this.discovery.writer, sd), 'dds_writecdr');
      } catch (err) {
        this.fail(`publishing ${DISCOVERY_TOPIC}`, err);
      }
    });
  }

  /** Loads Cyclone, writes the configuration, creates the domain and participant. Throws DdsUnavailableError without Cyclone. */
  static create(o: DdsTransportOptions): DdsTransport {
    const c = cyclone();
    if (!c) throw new DdsUnavailableError(cycloneUnavailable() ?? 'Cyclone DDS is not available');
    const env = o.env ?? process.env;
    const domainId = o.domainId ?? parseDomainId(env.ROS_DOMAIN_ID);
    const userUri = env.CYCLONEDDS_URI !== undefined && env.CYCLONEDDS_URI !== '' ? env.CYCLONEDDS_URI : undefined;
    const loopback = o.loopback ?? userUri === undefined;
    const tmpDir = mkdtempSync(join(tmpdir(), 'kestrel-dds-'));
    const logFile = join(tmpDir, 'cyclonedds.log');
    const configFile = join(tmpDir, 'cyclonedds.xml');
    writeFileSync(configFile, cycloneConfig({ logFile, loopback }) + '\n');
    // A user's configuration first, ours after it: Cyclone merges them, later fragments overriding, so the log
    // file (and, under loopback, the interfaces) are ours, the rest theirs.
    const config = [...(userUri !== undefined && !loopback ? [userUri] : []), `file://${configFile}`].join(',');
    const dom = c.createDomain(domainId, config);
    // PRECONDITION_NOT_MET: the domain exists already in this process (another transport): its configuration stands.
    if (dom < 0 && dom !== -4) throw new DdsUnavailableError(`dds_create_domain(${domainId}): ${c.strerror(dom)}`);
    // rmw's participant user data: ROS 2 tools read the security enclave from it.
    const pq = c.createQos();
    c.qsetUserdata(pq, new TextEncoder().encode('enclave=/;'));
    const pp = c.createParticipant(domainId, pq);
    c.deleteQos(pq);
    if (pp < 0) throw new DdsUnavailableError(`dds_create_participant(${domainId}): ${c.strerror(pp)}`);
    const ws = c.createWaitset(pp);
    if (ws < 0) {
      c.delete(pp);
      throw new DdsUnavailableError(`dds_create_waitset: ${c.strerror(ws)}`);
    }
    o.log?.info(`DDS participant on domain ${domainId} (Cyclone DDS ${c.version}, ${loopback ? 'loopback only' : `configuration ${userUri ?? 'default'}`})`);
    return new DdsTransport(c, pp, ws, domainId, logFile, tmpDir, o);
  }

  checkType(type: MsgTypeName, topic: string): void {
    if (!this.registry.has(type)) throw new Error(`--transport dds: no message definition for '${type}' (topic '${topic}')`);
    ddsTypeName(type);
    ddsTopicName(topic);
  }

  /** The DDS topic entity (one per topic name), created on first use with the ROS 2 type name. */
  private topicFor(rosTopic: string, type: MsgTypeName): { topic: Entity; type: MsgTypeName; sertype?: Ptr } {
    let t = this.topics.get(rosTopic);
    if (t) {
      if (t.type !== type) throw new Error(`--transport dds: topic '${rosTopic}' is used with types ${t.type} and ${type}`);
      return t;
    }
    const desc = this.c.opaqueDescriptor(ddsTypeName(type));
    const topic = check(this.c, this.c.createTopic(this.participant, desc, ddsTopicName(rosTopic), null), `dds_create_topic(${ddsTopicName(rosTopic)})`);
    t = { topic, type };
    this.topics.set(rosTopic, t);
    // Peers discovered before we used the topic are checked now.
    for (const [guid, ep] of this.remote) if (ep.rosTopic === rosTopic) this.checkRemote(guid);
    return t;
  }

  /**
   * The sertype of a topic, which `ddsi_serdata_from_ser_iov` needs to wrap our bytes. Cyclone 0.10 has no public
   * getter, but every serdata names its sertype: one sample written and taken in a partition no peer uses
   * ("kestrel.sertype-probe", never matched by the default partition of ROS 2 endpoints) yields it.
   */
  private sertypeOf(t: { topic: Entity; sertype?: Ptr }, name: string): Ptr {
    if (t.sertype) return t.sertype;
    const q = this.c.createQos();
    try {
      this.c.qsetPartition1(q, 'kestrel.sertype-probe');
      this.c.qsetReliability(q, RELIABILITY.reliable, 100_000_000n);
      this.c.qsetHistory(q, HISTORY.keep_last, 1);
      const w = check(this.c, this.c.createWriter(this.participant, t.topic, q), 'dds_create_writer(probe)');
      const r = check(this.c, this.c.createReader(this.participant, t.topic, q), 'dds_create_reader(probe)');
      try {
        const sample = this.c.koffi.alloc('uint8', 8);
        check(this.c, this.c.write(w, sample), 'dds_write(probe)');
        const got = this.c.takecdr(r, 1);
        if (typeof got === 'number' || got.data.length !== 1) throw new Error(`sertype probe on '${name}' returned no sample`);
        t.sertype = this.c.serdataSertype(got.data[0]);
        this.c.serdataUnref(got.data[0]);
      } finally {
        this.c.delete(r);
        this.c.delete(w);
      }
    } finally {
      this.c.deleteQos(q);
    }
    return t.sertype as Ptr;
  }

  private qos(plan: DdsQosPlan, reader: boolean): Ptr {
    const c = this.c;
    const q = c.createQos();
    c.qsetReliability(q, RELIABILITY[plan.reliability], plan.maxBlockingNs);
    c.qsetDurability(q, DURABILITY[plan.durability]);
    c.qsetHistory(q, HISTORY[plan.history], plan.history === 'keep_last' ? plan.depth : -1);
    if (plan.deadlineNs !== undefined) c.qsetDeadline(q, plan.deadlineNs);
    if (plan.liveliness !== 'automatic' || plan.leaseNs !== undefined) c.qsetLiveliness(q, LIVELINESS[plan.liveliness], plan.leaseNs ?? 0x7fffffffffffffffn);
    // XCDR1 only, as ROS 2 Humble's rmw writes and reads it.
    c.qsetDataRepresentationXcdr1(q);
    // The bus already delivered our own messages locally: a reader must not see this participant's writers.
    if (reader) c.qsetIgnoreLocal(q);
    return q;
  }

  bridgeOut(topic: string, type: MsgTypeName, qos: QoS): OutBridge {
    this.checkType(type, topic);
    let e = this.outs.get(topic);
    if (e && e.type !== type) this.topicFor(topic, type); // throws: one DDS topic, one type
    if (!e) {
      const t = this.topicFor(topic, type);
      const sertype = this.sertypeOf(t, topic);
      const q = this.qos(ddsQosPlan(qos), false);
      try {
        const writer = check(this.c, this.c.createWriter(this.participant, t.topic, q), `dds_create_writer(${ddsTopicName(topic)})`);
        e = { topic: t.topic, writer, sertype, type, refs: 0 };
      } finally {
        this.c.deleteQos(q);
      }
      this.outs.set(topic, e);
      this.announce();
    }
    e.refs++;
    const entry = e;
    let open = true;
    return {
      publish: (msg) => {
        if (this.closed || !open) return;
        try {
          const bytes = this.registry.encode(type, msg);
          const sd = this.c.serdataFromCdr(entry.sertype, bytes);
          if (!sd) throw new Error('Cyclone refused the serialized sample');
          // dds_writecdr consumes the serdata reference, also on failure.
          check(this.c, this.c.writecdr(entry.writer, sd), 'dds_writecdr');
          this.stats.sent++;
        } catch (err) {
          this.fail(`publish on '${topic}' (${type})`, err);
        }
      },
      close: () => {
        if (!open) return;
        open = false;
        if (--entry.refs === 0) {
          this.outs.delete(topic);
          if (!this.closed) this.c.delete(entry.writer);
          this.announce();
        }
      },
    };
  }

  bridgeIn(topic: string, type: MsgTypeName, qos: QoS, deliver: (msg: unknown) => void): () => void {
    this.checkType(type, topic);
    let e = this.ins.get(topic);
    if (e && e.type !== type) this.topicFor(topic, type); // throws: one DDS topic, one type
    if (!e) {
      const t = this.topicFor(topic, type);
      const q = this.qos(ddsQosPlan(qos), true);
      let reader: Entity;
      try {
        reader = check(this.c, this.c.createReader(this.participant, t.topic, q), `dds_create_reader(${ddsTopicName(topic)})`);
      } finally {
        this.c.deleteQos(q);
      }
      const cond = check(this.c, this.c.createReadCondition(reader, DDS_ANY_STATE), 'dds_create_readcondition');
      const x = this.nextAttach++;
      check(this.c, this.c.waitsetAttach(this.waitset, cond, x), 'dds_waitset_attach');
      e = { topic: t.topic, reader, cond, type, rosTopic: topic, deliver, refs: 0 };
      this.ins.set(topic, e);
      this.byCond.set(x, e);
      this.announce();
    }
    e.refs++;
    const entry = e;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      if (--entry.refs === 0) {
        this.ins.delete(topic);
        for (const [x, v] of this.byCond) if (v === entry) this.byCond.delete(x);
        if (!this.closed) {
          this.c.waitsetDetach(this.waitset, entry.cond);
          this.c.delete(entry.reader);
        }
        this.announce();
      }
    };
  }

  /** One wait on a worker thread at a time; on return, everything available is taken on this thread. */
  private loop(): void {
    if (this.closed) return;
    this.waiting = new Promise<void>((resolve) => {
      this.c.waitsetWaitAsync(this.waitset, WAIT_NS, (err) => {
        resolve();
        if (this.closed) return;
        if (err) this.fail('dds_waitset_wait', err);
        try {
          this.drain();
        } catch (e) {
          // Never let one bad turn stop the loop: the next wait retries.
          this.fail('taking samples', e);
        }
        setImmediate(() => this.loop());
      });
    });
  }

  /** Takes every available sample of every reader, and looks at discovery and Cyclone's log. */
  drain(): void {
    if (this.closed) return;
    for (const e of [...this.ins.values()]) this.takeAll(e);
    this.checkDiscovery();
    const now = performance.now();
    if (now - this.lastLogPoll >= LOG_POLL_MS) {
      this.lastLogPoll = now;
      this.readCycloneLog();
    }
  }

  private takeAll(e: InEntry): void {
    for (;;) {
      const got = this.c.takecdr(e.reader, TAKE_BATCH);
      if (typeof got === 'number') {
        this.fail(`dds_takecdr on '${e.rosTopic}'`, new Error(this.c.strerror(got)));
        return;
      }
      for (let i = 0; i < got.data.length; i++) {
        const d = got.data[i];
        let bytes: Uint8Array;
        try {
          if (!got.infos[i]!.valid_data) continue; // a writer left or disposed: no payload
          bytes = this.c.serdataBytes(d);
        } finally {
          this.c.serdataUnref(d);
        }
        this.receive(e, bytes);
      }
      if (got.data.length < TAKE_BATCH) return;
    }
  }

  /** One sample's bytes from a peer: checked, decoded, delivered; anything wrong is counted and reported. */
  receive(e: InEntry, bytes: Uint8Array): void {
    const bad = encapsulationProblem(bytes);
    if (bad !== undefined) {
      this.stats.badEncapsulation++;
      this.fail(`sample on '${e.rosTopic}' (${e.type}) refused`, new Error(bad), 'bad_encapsulation');
      return;
    }
    let msg: unknown;
    try {
      msg = this.registry.decode(e.type, bytes);
    } catch (err) {
      this.stats.decodeErrors++;
      this.fail(`sample on '${e.rosTopic}' (${e.type}) refused`, err, 'decode_error');
      return;
    }
    this.stats.received++;
    try {
      e.deliver(msg);
    } catch (err) {
      this.fail(`delivery of '${e.rosTopic}' (${e.type})`, err);
    }
  }

  private checkDiscovery(): void {
    for (const [r, side] of [
      [this.pubReader, 'publishes'],
      [this.subReader, 'subscribes to'],
    ] as const) {
      for (;;) {
        const got = this.c.take(r, 16);
        if (typeof got === 'number' || got.samples.length === 0) break;
        try {
          for (let i = 0; i < got.samples.length; i++) {
            if (!got.infos[i]!.valid_data) continue;
            const ep = this.c.endpointOf(got.samples[i]);
            const rosTopic = rosTopicName(ep.topic);
            if (rosTopic === undefined) continue;
            const guid = Buffer.from(ep.key).toString('hex');
            this.remote.set(guid, { rosTopic, ddsTopic: ep.topic, type: ep.type, side });
            this.checkRemote(guid);
          }
        } finally {
          this.c.returnLoan(r, got.buf, got.samples.length);
        }
        if (got.samples.length < 16) break;
      }
    }
  }

  /** A remote endpoint on one of our topics with another type name: counted once per endpoint. */
  private checkRemote(guid: string): void {
    const ep = this.remote.get(guid);
    const mine = ep && this.topics.get(ep.rosTopic);
    if (!ep || !mine || this.mismatched.has(guid)) return;
    const expected = ddsTypeName(mine.type);
    if (ep.type === expected) return;
    this.mismatched.add(guid);
    this.stats.typeMismatches++;
    this.fail(
      `peer ${guid} ${ep.side} '${ep.ddsTopic}' as type '${ep.type}'`,
      new Error(`Kestrel carries '${ep.rosTopic}' as '${expected}' (${mine.type}); DDS will not match them, so nothing flows between them`),
      'type_mismatch',
    );
  }

  /** Reads new lines of Cyclone's log (a few KiB at most: warnings only) for samples it refused itself. */
  private readCycloneLog(): void {
    try {
      if (this.logFd === undefined) this.logFd = openSync(this.logFile, 'r');
      const size = fstatSync(this.logFd).size;
      if (size <= this.logOffset) return;
      const buf = Buffer.alloc(Math.min(size - this.logOffset, 1 << 20));
      const n = readSync(this.logFd, buf, 0, buf.length, this.logOffset);
      this.logOffset += n;
      const lines = (this.logRest + buf.subarray(0, n).toString('utf8')).split('\n');
      this.logRest = lines.pop() ?? '';
      for (const line of lines) {
        const r = parseRefusedSample(line);
        if (!r) continue;
        this.stats.refusedByCyclone++;
        // Cyclone's own reason is often "for reasons unknown": say what it refuses.
        const hint = 'Cyclone accepts plain CDR (XCDR1/XCDR2) with at least one byte of payload; a PL_CDR or unknown encapsulation, or an empty payload, is refused';
        this.fail(`sample from ${r.writer} on '${r.topic}' (${r.type}) refused by Cyclone DDS`, new Error(`${r.reason}; ${hint}`), 'refused_by_cyclone');
      }
    } catch {
      // No log yet (Cyclone writes it on the first warning, or opens it lazily): nothing was refused.
    }
  }

  private fail(what: string, err: unknown, kind = 'error'): void {
    this.stats.errors++;
    const msg = `dds bridge: ${what}: ${(err as Error)?.message ?? String(err)}`;
    const d = this.o.diag;
    if (d) {
      d.stage('dds_bridge').error(new Error(msg));
      d.values.dds_bridge_errors = String(this.stats.errors);
      const count: Record<string, number> = {
        type_mismatch: this.stats.typeMismatches,
        bad_encapsulation: this.stats.badEncapsulation,
        decode_error: this.stats.decodeErrors,
        refused_by_cyclone: this.stats.refusedByCyclone,
      };
      if (kind in count) d.values[`dds_${kind}`] = String(count[kind]);
    }
    // Each cause is logged once; the counts keep growing in stats and diagnostics.
    const key = `${kind}: ${what}`;
    if (!this.reported.has(key)) {
      this.reported.add(key);
      this.o.log?.warn(msg);
    }
  }

  /** Topics this process bridges. */
  bridged(): { out: string[]; in: string[] } {
    return { out: [...this.outs.keys()].sort(), in: [...this.ins.keys()].sort() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Wake the worker thread's wait, let it return, and only then delete what it waits on.
    this.c.waitsetSetTrigger(this.waitset, true);
    await this.waiting;
    this.c.delete(this.participant);
    if (this.logFd !== undefined) closeSync(this.logFd);
    if (this.tmpDir) rmSync(this.tmpDir, { recursive: true, force: true });
  }
}

/** ROS_DOMAIN_ID as ROS 2 reads it: unset or empty is 0; anything but an integer 0..232 is an error. */
export function parseDomainId(v: string | undefined): number {
  if (v === undefined || v.trim() === '') return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 232) throw new Error(`ROS_DOMAIN_ID='${v}': expected an integer 0..232`);
  return n;
}
