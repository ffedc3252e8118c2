/**
 * The samples both sides of the interop test agree on: the same contents as make_sample() in fastdds_peer.cpp, built
 * here as Kestrel messages. `plain()` turns a decoded message into the JSON shape the peer prints.
 */
import { makeMsg, type MsgTypeName } from '../../../../msgs/index.js';

export const INTEROP_TYPES = ['std_msgs/msg/String', 'sensor_msgs/msg/Imu', 'kestrel_msgs/msg/Alert'] as const satisfies readonly MsgTypeName[];
export type InteropType = (typeof INTEROP_TYPES)[number];

const cov = (f: (k: number) => number): number[] => Array.from({ length: 9 }, (_, k) => f(k));

/** Sample `i` of `type`, as the peer's make_sample(type, i) writes it (with `from` naming the sender in strings). */
export function interopSample(type: InteropType, i: number, from = 'fastdds'): unknown {
  switch (type) {
    case 'std_msgs/msg/String':
      return makeMsg('std_msgs/msg/String', { data: `${from} #${i} Zürich` });
    case 'sensor_msgs/msg/Imu':
      return makeMsg('sensor_msgs/msg/Imu', {
        header: { stamp: { sec: i, nanosec: 500 }, frame_id: 'imu_link' },
        orientation: { x: 0.1 * i, y: 0.2, z: 0.3, w: 0.9 },
        orientation_covariance: cov((k) => k * 0.5),
        angular_velocity: { x: 1, y: 2, z: i },
        angular_velocity_covariance: cov((k) => k * 0.5),
        linear_acceleration: { x: 0, y: 0, z: 9.81 },
        linear_acceleration_covariance: cov((k) => k * 0.5),
      });
    case 'kestrel_msgs/msg/Alert':
      return makeMsg('kestrel_msgs/msg/Alert', {
        header: { stamp: { sec: i, nanosec: 0 }, frame_id: 'map' },
        rule_id: `r1_${i}`,
        active: i % 2 === 0,
        severity: 'warn',
        reaction: 'hover',
        message: 'count > 10',
        value: 10.5 + i,
        track_ids: [i, i + 1, 7],
      });
  }
}

/** Typed arrays → arrays, bigint → number: the JSON shape of a decoded message, for comparing with the peer's. */
export function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}
