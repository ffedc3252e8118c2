/**
 * use_sim_time: the process clock follows `/clock` (rosgraph_msgs/Clock), as rclcpp's
 * TimeSource does. The subscription is best effort, depth 1, which matches both the
 * reliable `/clock` of `ros2 bag play --clock` and best-effort simulators.
 */
import type { Subscription } from 'rxjs';
import type { Bus } from '../bus.js';
import type { SimClock } from '../clock.js';
import type { QoS } from '../qos.js';
import { timeToMs } from '../time.js';

export const CLOCK_QOS: QoS = Object.freeze({ reliability: 'best_effort', durability: 'volatile', history: 'keep_last', depth: 1 });

export interface ClockFollowStats {
  ticks: number;
  /** /clock going backwards (a looping bag): ignored, since sim time never goes back. */
  backwards: number;
}

export function followClock(bus: Bus, clock: SimClock, topic = '/clock', stats: ClockFollowStats = { ticks: 0, backwards: 0 }): Subscription {
  return bus.subscribe(topic, 'rosgraph_msgs/msg/Clock', CLOCK_QOS).subscribe((m) => {
    const ms = timeToMs(m.clock);
    if (ms < clock.now()) {
      stats.backwards++;
      return;
    }
    stats.ticks++;
    clock.advanceTo(ms);
  });
}
