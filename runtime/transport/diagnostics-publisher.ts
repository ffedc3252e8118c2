/**
 * `/diagnostics` for a per-node process: the process's DiagnosticsRegistry as a
 * diagnostic_msgs/DiagnosticArray, one DiagnosticStatus per node, at a fixed period.
 */
import type { Subscription } from 'rxjs';
import { makeMsg, type diagnostic_msgs } from '../../msgs/index.js';
import type { Bus } from '../bus.js';
import { every, type Clock } from '../clock.js';
import type { Level, NodeStatus } from '../diagnostics.js';
import type { Time } from '../time.js';

const LEVEL: Record<Level, number> = { ok: 0, warn: 1, error: 2, stale: 3 };

export function diagnosticArray(statuses: readonly NodeStatus[], stamp: Time, hardwareId = ''): diagnostic_msgs.DiagnosticArray {
  return makeMsg('diagnostic_msgs/msg/DiagnosticArray', {
    header: makeMsg('std_msgs/msg/Header', { stamp, frame_id: '' }),
    status: statuses.map((s) => {
      const values: Array<[string, string]> = [['state', s.state]];
      for (const st of s.stages) {
        const stage = st.name.slice(s.node.length + 1) || st.name;
        values.push(
          [`${stage}.count`, String(st.count)],
          [`${stage}.latency_p50_ms`, st.p50.toFixed(3)],
          [`${stage}.latency_p99_ms`, st.p99.toFixed(3)],
          [`${stage}.latency_max_ms`, st.max.toFixed(3)],
          [`${stage}.misses`, String(st.misses)],
          [`${stage}.drops`, String(st.drops)],
          [`${stage}.errors`, String(st.errors)],
        );
        if (st.lastError) values.push([`${stage}.last_error`, st.lastError]);
      }
      for (const [k, v] of Object.entries(s.values)) values.push([k, v]);
      return makeMsg('diagnostic_msgs/msg/DiagnosticStatus', {
        level: LEVEL[s.level],
        name: s.node,
        message: s.message,
        hardware_id: hardwareId,
        values: values.map(([key, value]) => makeMsg('diagnostic_msgs/msg/KeyValue', { key, value })),
      });
    }),
  });
}

/** Publishes the registry every `periodMs` of `clock` time (1 Hz, like diagnostic_updater). */
export function publishDiagnostics(bus: Bus, statuses: () => NodeStatus[], clock: Clock, periodMs = 1000, topic = '/diagnostics'): Subscription {
  const pub = bus.advertise(topic, 'diagnostic_msgs/msg/DiagnosticArray');
  const s = every(clock, periodMs).subscribe(() => pub.publish(diagnosticArray(statuses(), clock.stamp())));
  s.add(() => pub.close());
  return s;
}
