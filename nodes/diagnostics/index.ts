/**
 * diagnostics: publishes /diagnostics (diagnostic_msgs/DiagnosticArray) at a fixed rate from
 * the process-wide diagnostics registry: per-stage latency p50/p99/max, deadline misses,
 * drops, errors and node states, as `ros2 topic echo /diagnostics` or rqt_robot_monitor show them.
 */
import { every } from '../../runtime/clock.js';
import { defineNode, topicDoc } from '../../runtime/node.js';
import { p } from '../../runtime/params.js';
import { buildReport, type ReportMemory } from './report.js';

export const diagnosticsNode = defineNode({
  name: 'diagnostics',
  description: 'Publishes /diagnostics (per-stage latency p50/p99/max, deadline misses, drops, errors, node states) at a fixed rate',
  params: {
    period_ms: p.double(1000, 'Publication period', { min: 10 }),
    stale_after_ms: p.double(5000, 'A stage with no activity for this long is STALE', { min: 1 }),
    hardware_id: p.string('kestrel', 'hardware_id of every status'),
  },
  publishes: [topicDoc('/diagnostics', 'One status per node and per stage')],
  create(ctx, prm) {
    const registry = ctx.diagnostics;
    if (!registry) throw new Error(`node '${ctx.fqn}': the diagnostics node needs the process-wide diagnostics registry (run it in a Container)`);
    const pub = ctx.advertise('/diagnostics');
    const mem: ReportMemory = new Map();
    return {
      activate() {
        return every(ctx.clock, prm.period_ms).subscribe(() => {
          const now = ctx.clock.now();
          pub.publish(buildReport(registry.all(), mem, { now, header: ctx.header(), staleAfterMs: prm.stale_after_ms, hardwareId: prm.hardware_id }));
        });
      },
    };
  },
});

export default diagnosticsNode;
