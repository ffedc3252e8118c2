/**
 * The ROS 2 DDS wire conventions (rmw's, as rmw_fastrtps_cpp and rmw_cyclonedds_cpp both apply them), as pure
 * functions: topic and type names, the encapsulation header, QoS, and the loopback Cyclone DDS configuration.
 */
import type { QoS } from '../../qos.js';

/** ROS 2 topic `/a/b` → DDS topic `rt/a/b` (rmw's "ros topic" prefix). Kestrel's topic names are absolute. */
export function ddsTopicName(rosTopic: string): string {
  if (!rosTopic.startsWith('/')) throw new Error(`topic '${rosTopic}' is not absolute: the DDS transport needs resolved names (/ns/name)`);
  return `rt${rosTopic}`;
}

/** `rt/a/b` → `/a/b`; undefined for DDS topics that are not ROS 2 topics (rq/, rr/, ros_discovery_info, DCPS*). */
export function rosTopicName(ddsTopic: string): string | undefined {
  return ddsTopic.startsWith('rt/') ? ddsTopic.slice(2) : undefined;
}

/** `std_msgs/msg/String` → `std_msgs::msg::dds_::String_` (rosidl_typesupport's DDS name). */
export function ddsTypeName(rosType: string): string {
  const m = /^(\w+)\/(msg|srv|action)\/(\w+)$/.exec(rosType);
  if (!m) throw new Error(`'${rosType}' is not a ROS 2 type name (pkg/msg/Name)`);
  return `${m[1]}::${m[2]}::dds_::${m[3]}_`;
}

/** `std_msgs::msg::dds_::String_` → `std_msgs/msg/String`; undefined for non-ROS type names. */
export function rosTypeName(ddsType: string): string | undefined {
  const m = /^(\w+)::(msg|srv|action)::dds_::(\w+)_$/.exec(ddsType);
  return m ? `${m[1]}/${m[2]}/${m[3]}` : undefined;
}

/** The encapsulation identifiers of DDS-XTypes 1.3 §7.6.3.1.2, by value. */
const ENCAPSULATIONS: Readonly<Record<number, string>> = {
  0x0000: 'CDR_BE',
  0x0001: 'CDR_LE',
  0x0002: 'PL_CDR_BE',
  0x0003: 'PL_CDR_LE',
  0x0006: 'CDR2_BE',
  0x0007: 'CDR2_LE',
  0x0008: 'D_CDR2_BE',
  0x0009: 'D_CDR2_LE',
  0x000a: 'PL_CDR2_BE',
  0x000b: 'PL_CDR2_LE',
};

/**
 * Why `bytes` is not a ROS 2 sample Kestrel can decode, or undefined when it is: ROS 2 (rmw_fastrtps, rmw_cyclonedds)
 * sends plain XCDR1, little-endian on every platform it ships for. Anything else is reported, never guessed at.
 */
export function encapsulationProblem(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength < 4) return `${bytes.byteLength} bytes: shorter than the 4-byte encapsulation header`;
  const id = (bytes[0]! << 8) | bytes[1]!;
  if (id === 0x0001) return undefined;
  const name = ENCAPSULATIONS[id];
  return `encapsulation ${name ?? 'unknown'} (0x${id.toString(16).padStart(4, '0')}), expected CDR_LE (0x0001, XCDR1 little-endian) as ROS 2 sends`;
}

/** The DDS QoS a Kestrel QoS becomes, as rmw maps an rmw_qos_profile_t (rmw_cyclonedds_cpp's dds_qos_from_rmw). */
export interface DdsQosPlan {
  reliability: 'reliable' | 'best_effort';
  /** Cyclone's max_blocking_time for reliable writers: rmw leaves Cyclone's default, 100 ms. */
  maxBlockingNs: bigint;
  durability: 'volatile' | 'transient_local';
  history: 'keep_last' | 'keep_all';
  depth: number;
  /** Unset (infinite) unless the profile says otherwise, as in rmw's default profiles. */
  deadlineNs?: bigint;
  liveliness: 'automatic' | 'manual_by_topic';
  leaseNs?: bigint;
}

/** ROS 2 QoS profile fields beyond Kestrel's QoS, as a launch or parameter file may set them. */
export interface Ros2QosExtras {
  deadline_ms?: number;
  liveliness?: 'automatic' | 'manual_by_topic';
  liveliness_lease_ms?: number;
}

export function ddsQosPlan(q: QoS, extras: Ros2QosExtras = {}): DdsQosPlan {
  if (!Number.isInteger(q.depth) || q.depth < 0) throw new Error(`QoS depth ${q.depth} is not a non-negative integer`);
  const ns = (ms: number | undefined, what: string): bigint | undefined => {
    if (ms === undefined) return undefined;
    if (!Number.isFinite(ms) || ms <= 0) throw new Error(`QoS ${what} ${ms} ms: must be a positive number of milliseconds`);
    return BigInt(Math.round(ms * 1e6));
  };
  return {
    reliability: q.reliability,
    maxBlockingNs: 100_000_000n,
    durability: q.durability,
    history: q.history,
    // rmw: KEEP_LAST with depth 0 means "system default", which is 1 for Cyclone and Fast DDS.
    depth: q.history === 'keep_last' ? Math.max(1, q.depth) : q.depth,
    deadlineNs: ns(extras.deadline_ms, 'deadline'),
    liveliness: extras.liveliness ?? 'automatic',
    leaseNs: ns(extras.liveliness_lease_ms, 'liveliness lease'),
  };
}

export interface CycloneConfigOptions {
  /** Cyclone's own log (warnings: samples it could not accept, e.g. a bad encapsulation), read back by the transport. */
  logFile: string;
  /** true (the default): discovery and data on 127.0.0.1 only, unicast, peers found on the loopback ports. */
  loopback: boolean;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The Cyclone DDS configuration the transport writes (CYCLONEDDS_URI syntax). Loopback: one interface (127.0.0.1),
 * no multicast (loopback usually has none), and 127.0.0.1 as the unicast discovery peer: Cyclone then sends its
 * participant announcements to the well-known ports of participant indices 0..MaxAutoParticipantIndex, where Fast DDS
 * and other Cyclone participants of the domain listen (port = 7400 + 250·domain + 10 + 2·index, as both compute it).
 */
export function cycloneConfig(o: CycloneConfigOptions): string {
  const general = o.loopback
    ? '<General><Interfaces><NetworkInterface address="127.0.0.1"/></Interfaces><AllowMulticast>false</AllowMulticast></General>' +
      '<Discovery><ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>20</MaxAutoParticipantIndex><Peers><Peer address="127.0.0.1"/></Peers>' +
      // A peer with no unicast initial peers of its own (rmw_fastrtps under ROS_LOCALHOST_ONLY=1) hears of Kestrel only
      // from these announcements: every second, not Cyclone's default 30 s, so it finds Kestrel within one.
      '<SPDPInterval>1s</SPDPInterval></Discovery>'
    : '';
  return (
    '<CycloneDDS><Domain id="any">' +
    general +
    `<Tracing><Verbosity>warning</Verbosity><OutputFile>${xmlEscape(o.logFile)}</OutputFile></Tracing>` +
    '</Domain></CycloneDDS>'
  );
}

/** A sample Cyclone refused before it reached Kestrel, from one of its log lines (dds_receive's warning). */
export interface RefusedSample {
  topic: string;
  type: string;
  writer: string;
  reason: string;
}

/**
 * Cyclone logs `data(application, vendor 1.15): <writer guid> #<seq>: deserialization <topic>/<type> failed (<why>)`
 * when it cannot accept a sample (a PL_CDR or unknown encapsulation, an empty payload). Pure: one line in, or undefined.
 */
export function parseRefusedSample(line: string): RefusedSample | undefined {
  const m = /data\(application, vendor [\d.]+\): (\S+) #\d+: deserialization (.*?)\/([\w:]+) failed \((.*)\)/.exec(line);
  if (!m) return undefined;
  return { writer: m[1]!, topic: m[2]!, type: m[3]!, reason: m[4]! };
}
