/** Composable nodes: <node_container>, <load_composable_node>, <composable_node>, <extra_arg> (XML and YAML), resolved and run embedded. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { NODE_REGISTRY } from '../../nodes/index.js';
import { Container } from '../container.js';
import type { LogRecord } from '../log.js';
import { foreignComponentsReport, launchInProcess, LaunchError, resolveLaunch, splitComponents, type ComponentSpec, type ResolvedLaunch } from './index.js';

const PREFIX = join(import.meta.dirname, 'testdata', 'install');
const LAUNCH = join(PREFIX, 'share', 'kestrel_stack', 'launch');
const env = { AMENT_PREFIX_PATH: PREFIX };
const defaultNodeName = (_pkg: string, exec: string): string | undefined => NODE_REGISTRY.get(exec)?.name;

const summary = (c: ComponentSpec): Record<string, unknown> => ({
  fqn: c.fqn,
  pkg: c.package,
  plugin: c.plugin,
  exec: c.executable,
  container: c.container,
  params: Object.fromEntries([...c.params].map(([k, o]) => [k, [o.value, o.type]])),
  remaps: c.remaps.map((r) => `${r.from}:=${r.to}`),
  extra: c.extraArgs.map((a) => `${a.name}=${a.value}`),
});

describe('composable nodes', () => {
  const check = (r: ResolvedLaunch): void => {
    expect(r.nodes).toEqual([]);
    expect(r.containers.map((c) => [c.fqn, c.package, c.executable])).toEqual([['/pointcloud_container', 'rclcpp_components', 'component_container_mt']]);
    expect(r.components.map(summary)).toEqual([
      {
        fqn: '/cloud_talker', pkg: 'kestrel', plugin: 'kestrel::talker', exec: 'talker', container: '/pointcloud_container',
        params: { rate_hz: [50, 'double'] }, remaps: ['chatter:=points_raw'], extra: ['use_intra_process_comms=true'],
      },
      {
        fqn: '/sensing/crop_box_filter', pkg: 'autoware_pointcloud_preprocessor', plugin: 'autoware::pointcloud_preprocessor::CropBoxFilterComponent',
        exec: 'CropBoxFilterComponent', container: '/pointcloud_container',
        // The params file first, then the inline values (launch_ros's order).
        params: { min_x: [-50, 'double'], max_x: [100, 'double'], negative: [true, 'bool'] }, remaps: ['input:=points_raw'], extra: ['use_intra_process_comms=true'],
      },
      { fqn: '/cloud_listener', pkg: 'kestrel', plugin: 'kestrel::listener', exec: 'listener', container: '/pointcloud_container', params: {}, remaps: ['chatter:=points_raw'], extra: [] },
    ]);
  };

  it('XML: a container with a component, and an included file that loads two more into it by name', () => {
    check(resolveLaunch(join(LAUNCH, 'pointcloud_container.launch.xml'), {}, { env, defaultNodeName }));
  });

  it('YAML gives the same description', () => {
    check(resolveLaunch(join(LAUNCH, 'pointcloud_container.launch.yaml'), {}, { env, defaultNodeName }));
  });

  it('Kestrel plugins run embedded; foreign plugins and unknown containers are reported once, with the reason', () => {
    const r = resolveLaunch(join(LAUNCH, 'pointcloud_container.launch.xml'), {}, { env, defaultNodeName });
    const { embedded, foreign } = splitComponents(r, NODE_REGISTRY);
    expect(embedded.map((c) => c.fqn)).toEqual(['/cloud_talker', '/cloud_listener']);
    expect(foreign.map((f) => f.why)).toEqual(["plugin 'autoware::pointcloud_preprocessor::CropBoxFilterComponent' is not a Kestrel node"]);
    expect(foreignComponentsReport(foreign)).toBe(
      `1 composable node(s) not runnable in the embedded container, not started (Kestrel runs Kestrel nodes only, no C++ plugins): /sensing/crop_box_filter (pkg autoware_pointcloud_preprocessor, plugin 'autoware::pointcloud_preprocessor::CropBoxFilterComponent' is not a Kestrel node) ${join(LAUNCH, 'crop_box.launch.xml')}:4`,
    );
    const alone = resolveLaunch(join(LAUNCH, 'crop_box.launch.xml'), { container: 'elsewhere' }, { env, defaultNodeName });
    expect(splitComponents(alone, NODE_REGISTRY).foreign.map((f) => f.why)).toEqual([
      "target container '/elsewhere' is not started by this launch",
      "target container '/elsewhere' is not started by this launch",
    ]);
  });

  it('launchInProcess runs the Kestrel components in the one container; messages flow; the warning is logged once', async () => {
    const r = resolveLaunch(join(LAUNCH, 'pointcloud_container.launch.xml'), {}, { env, defaultNodeName });
    const logs: LogRecord[] = [];
    const container = new Container({ registry: NODE_REGISTRY, logSink: (l) => logs.push(l) });
    const heard = firstValueFrom(container.bus.subscribe('/points_raw', 'std_msgs/msg/String').pipe(take(2), toArray()));
    const handle = await launchInProcess(r, container, { registry: NODE_REGISTRY, handleSignals: false });
    expect(container.nodes.map((n) => [n.ctx.fqn, n.state])).toEqual([['/cloud_talker', 'active'], ['/cloud_listener', 'active']]);
    expect((await heard).length).toBe(2);
    await handle.shutdown();
    expect(logs.filter((l) => l.message.includes('not runnable in the embedded container'))).toHaveLength(1);
  });

  it('conditions, namespaces pushed from the scope, and errors at file:line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-comp-'));
    const f = join(dir, 'c.launch.xml');
    writeFileSync(f, `<launch>
  <push-ros-namespace namespace="robot"/>
  <node_container pkg="rclcpp_components" exec="component_container" name="box" namespace="containers">
    <composable_node pkg="kestrel" plugin="kestrel::talker" name="a" namespace="sub"/>
    <composable_node pkg="kestrel" plugin="kestrel::listener" name="never" if="false"/>
  </node_container>
  <load_composable_node target="/robot/containers/box">
    <composable_node pkg="kestrel" plugin="kestrel::listener"/>
  </load_composable_node>
</launch>`);
    const r = resolveLaunch(f, {}, { env: {}, defaultNodeName });
    expect(r.containers.map((c) => c.fqn)).toEqual(['/robot/containers/box']);
    // The container's own namespace does not apply to its components; the pushed one does.
    expect(r.components.map((c) => [c.fqn, c.container])).toEqual([['/robot/sub/a', '/robot/containers/box'], ['/robot/listener', '/robot/containers/box']]);
    writeFileSync(f, '<launch>\n  <load_composable_node target="x">\n    <composable_node pkg="p" plugin="p::N" colour="red"/>\n  </load_composable_node>\n</launch>');
    expect(() => resolveLaunch(f, {}, { env: {} })).toThrow(LaunchError);
    expect(() => resolveLaunch(f, {}, { env: {} })).toThrow(/c\.launch\.xml:3: unsupported attribute 'colour' on <composable_node>/);
    writeFileSync(f, '<launch>\n  <load_composable_node target="x">\n    <composable_node pkg="p"/>\n  </load_composable_node>\n</launch>');
    expect(() => resolveLaunch(f, {}, { env: {} })).toThrow(/c\.launch\.xml:3: <composable_node> needs a 'plugin' attribute/);
    writeFileSync(f, '<launch>\n  <load_composable_node target="x">\n    <node pkg="p" exec="e"/>\n  </load_composable_node>\n</launch>');
    expect(() => resolveLaunch(f, {}, { env: {} })).toThrow(/c\.launch\.xml:3: unsupported <node> inside <load_composable_node> \(expected <composable_node>\)/);
  });
});
