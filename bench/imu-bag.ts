/** What the bag and replay benchmarks share: the synthetic 200 Hz Imu stream and a writable that only counts bytes. */
import type { IWritable } from '@mcap/core';
import { makeMsg, type sensor_msgs } from '../msgs/index.js';

export const IMU_HZ = 200;

/** The i-th message of the stream (deterministic: same bag every run). */
export function imuSample(i: number): sensor_msgs.Imu {
  return makeMsg('sensor_msgs/msg/Imu', {
    header: { stamp: { sec: 1_700_000_000 + Math.floor(i / IMU_HZ), nanosec: (i % IMU_HZ) * 5_000_000 }, frame_id: 'imu_link' },
    angular_velocity: { x: Math.sin(i / 100), y: 0.01, z: 0.02 },
    linear_acceleration: { x: 0.1, y: Math.cos(i / 50), z: 9.81 },
  });
}

/** An MCAP sink that keeps nothing: the bare-writer reference measures encoding, not I/O. */
export class NullWritable implements IWritable {
  private pos = 0n;
  async write(b: Uint8Array): Promise<void> {
    this.pos += BigInt(b.byteLength);
  }
  position(): bigint {
    return this.pos;
  }
}
