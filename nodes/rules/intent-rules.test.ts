import { describe, it, expect } from 'vitest';
import { makeMsg, type kestrel_msgs } from '../../msgs/index.js';
import { Bus } from '../../runtime/bus.js';
import { SimClock } from '../../runtime/clock.js';
import { Container } from '../../runtime/container.js';
import { QOS_LATCHED } from '../../runtime/qos.js';
import type { ParamDecls, ParamOverride } from '../../runtime/params.js';
import type { NodeDefinition } from '../../runtime/node.js';
import { msToTime } from '../../runtime/time.js';
import { intentNode } from '../intent/index.js';
import { rulesNode } from './index.js';

const over = (value: string | string[], type: ParamOverride['type']): ParamOverride => ({ value, type, source: 'test' });

describe('intent → rules → alerts', () => {
  it('the issue example intent raises the right alerts on hand-made worlds', async () => {
    const clock = new SimClock(1_000_000);
    const c = new Container({ clock, bus: new Bus(), registry: new Map<string, NodeDefinition<ParamDecls>>([['intent', intentNode], ['rules', rulesNode]]), logSink: () => undefined });
    await c.add({ package: 'kestrel', executable: 'rules', params: new Map(), remaps: [] });
    await c.add({ package: 'kestrel', executable: 'intent', params: new Map([['compiler', over('patterns', 'string')], ['region_names', over(['passport_queue'], 'string[]')]]), remaps: [] });
    await c.activateAll();
    const installed = new Promise<kestrel_msgs.RuleSet>((res) => c.bus.subscribe('/rules', 'kestrel_msgs/msg/RuleSet', QOS_LATCHED).subscribe(res));
    c.bus.advertise('/intent', 'std_msgs/msg/String', QOS_LATCHED).publish(makeMsg('std_msgs/msg/String', {
      data: 'Count people in the passport queue region and alert if more than 10; alert when a bag is left with no person within 3 m for 30 s',
    }));
    const rs = await installed;
    expect(rs.rules.map((r) => r.kind)).toEqual(['count', 'unattended']);
    const alerts: kestrel_msgs.AlertArray[] = [];
    c.bus.subscribe('/alerts', 'kestrel_msgs/msg/AlertArray').subscribe((a) => alerts.push(a));
    const world = c.bus.advertise('/world', 'kestrel_msgs/msg/WorldState');
    const at = (t: number, queue: number, personNearBag: boolean): kestrel_msgs.WorldState => makeMsg('kestrel_msgs/msg/WorldState', {
      header: { stamp: msToTime(1_000_000 + t * 1000) },
      tracks: [
        ...Array.from({ length: queue }, (_, i) => makeMsg('kestrel_msgs/msg/Track', { id: i + 1, class_id: 'person', position: { x: 50 + i, y: 0, z: 0 }, regions: ['passport_queue'] })),
        makeMsg('kestrel_msgs/msg/Track', { id: 100, class_id: 'bag', position: { x: 0, y: 0, z: 0 } }),
        ...(personNearBag ? [makeMsg('kestrel_msgs/msg/Track', { id: 101, class_id: 'person', position: { x: 1, y: 0, z: 0 } })] : []),
      ],
    });
    world.publish(at(0, 5, true));
    world.publish(at(1, 12, false));
    world.publish(at(20, 12, false));
    world.publish(at(31.5, 12, false));
    world.publish(at(32, 3, false));
    const ids = alerts.map((a) => a.alerts.map((x) => rs.rules.findIndex((r) => r.id === x.rule_id)));
    expect(ids).toEqual([[], [0], [0], [0, 1], [1]]);
    expect(alerts[3].alerts[1].track_ids).toEqual([100]);
    await c.shutdownAll();
  });
});
