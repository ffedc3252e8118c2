/**
 * Fuzz targets for launch files (XML and YAML) and ROS 2 params files (launch.fuzz.test.ts in the
 * suite, bench/fuzz.ts longer): mutated text, with tokens that matter to the formats spliced in
 * (substitutions, quotes, tags, YAML indicators). A precise error (LaunchError, ParamsFileError:
 * file and line) or a result whose every parameter value has the type it is declared with.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mutateText, type FuzzTarget, type Verdict } from '../../test/support/fuzz.js';
import { ParamsFileError, parseParamsYaml } from '../params-file.js';
import type { ParamOverride } from '../params.js';
import { LaunchError } from './entity.js';
import { resolveLaunch } from './resolve.js';

const XML = `<launch>
  <arg name="rate" default="20.0" description="tick rate"/>
  <arg name="ns" default="drone1"/>
  <let name="twice" value="$(eval '2 * $(var rate)')"/>
  <group>
    <push-ros-namespace namespace="$(var ns)"/>
    <node pkg="kestrel" exec="arbiter" name="arbiter" ros_args="-p max_age_ms:=250">
      <param name="rate_hz" value="$(var rate)"/>
      <param name="geofence" value="[0.0, 0.0, 100.0, 0.0, 100.0, 100.0]"/>
      <param name="mission">
        <param name="mode" value="hover"/>
        <param name="loop" value="true"/>
      </param>
      <remap from="/cmd" to="cmd_out"/>
    </node>
  </group>
  <node pkg="kestrel" exec="diagnostics" name="diag" if="$(not $(equals $(var ns) none))">
    <param name="period_ms" value="$(var twice)"/>
    <env name="X" value="$(optenv HOME /root)"/>
  </node>
  <set-parameter name="use_sim_time" value="false"/>
  <log message="ns is $(var ns)"/>
</launch>
`;

const YAML_LAUNCH = `launch:
  - arg: { name: rate, default: "20.0" }
  - let: { name: half, value: "$(eval '$(var rate) / 2')" }
  - group:
      - push-ros-namespace: { namespace: ns1 }
      - node:
          pkg: kestrel
          exec: arbiter
          name: arbiter
          param:
            - { name: rate_hz, value: $(var rate) }
            - { name: watch_topics, value: ["/a", "/b"] }
            - { name: min_battery, value: 0.3 }
          remap:
            - { from: /plan, to: plan_in }
  - node: { pkg: kestrel, exec: diagnostics, name: diag, param: [{ name: period_ms, value: $(var half) }] }
`;

const PARAMS = `/**:
  ros__parameters:
    use_sim_time: false
arbiter:
  ros__parameters:
    rate_hz: 20.0
    geofence: [0.0, 0.0, 100.0, 0.0, 100.0, 100.0]
    allowed_actions: ["hold", "goto"]
    validity_ticks: 3
    mission:
      mode: hover
      point: [1.0, 2.0, 10.0]
/ns1/diag:
  ros__parameters:
    period_ms: 0x3e8
    name: 'quoted'
`;

const XML_TOKENS = ['$(', ')', '$(var ', '$(var rate)', '$(env ', '$(eval ', '$(file-content /dev/zero)', '$(file-content ', '"', "'", '<', '>', '/>', '</node>', '<group>', '<param name="x" value="1"/>', ' if="', ' unless="true"', '&amp;', '&#0;', '<!--', '-->', '<![CDATA[', '\n', ' name="', ' from="/dev/zero"'];
const YAML_TOKENS = ['$(', ')', '$(var ', '$(eval ', '$(file-content /dev/zero)', ': ', '- ', '{', '}', '[', ']', '"', "'", '\n  ', '\n', '&a ', '*a', '!!binary ', '!!str ', '? ', '|\n', '>-\n', '#', ',', 'ros__parameters:', ' 0x', ' 1e999', ' .nan', ' ~', ' null'];

// The cases' file names (never written: the text is the source): errors name them, `$(dirname)` is this folder.
const dir = join(tmpdir(), 'kestrel-fuzz-launch');

const TYPE_OK: Record<string, (v: unknown) => boolean> = {
  bool: (v) => typeof v === 'boolean',
  int: (v) => typeof v === 'number' && Number.isInteger(v),
  double: (v) => typeof v === 'number',
  string: (v) => typeof v === 'string',
  'bool[]': (v) => Array.isArray(v) && v.every((x) => typeof x === 'boolean'),
  'int[]': (v) => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x)),
  'double[]': (v) => Array.isArray(v) && v.every((x) => typeof x === 'number'),
  'string[]': (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
};

function checkParams(params: ReadonlyMap<string, ParamOverride>, where: string): Verdict {
  for (const [name, p] of params) {
    const ok = TYPE_OK[p.type];
    if (!ok) return { wrong: `${where} ${name}: unknown type ${p.type}` };
    if (!ok(p.value)) return { wrong: `${where} ${name}: value ${JSON.stringify(p.value)} is not a ${p.type}` };
  }
  return 'ok';
}

const clear = (e: unknown): boolean => e instanceof LaunchError || e instanceof ParamsFileError;

/** The unmutated seeds, to check they resolve. */
export const SEEDS = { xml: XML, yaml: YAML_LAUNCH };

export const launchTarget: FuzzTarget<{ ext: 'xml' | 'yaml'; text: string; file: string }> = {
  name: 'launch',
  gen(r, i) {
    const ext = r.chance(0.5) ? 'xml' : 'yaml';
    const text = mutateText(ext === 'xml' ? XML : YAML_LAUNCH, r, ext === 'xml' ? XML_TOKENS : YAML_TOKENS, 4);
    return { ext, text, file: join(dir, `case${i}.launch.${ext}`) };
  },
  run(c) {
    // The text is given as the top file's source (no file write per case: a third of a case's time was that write).
    const out = resolveLaunch(c.file, {}, { env: { HOME: '/root' }, source: c.text });
    for (const n of out.nodes) {
      const v = checkParams(n.params, `node ${n.name ?? n.executable}`);
      if (v !== 'ok') return v;
    }
    return 'ok';
  },
  isClear: clear,
  caseMs: 3000,
};

export const paramsTarget: FuzzTarget<string> = {
  name: 'params',
  gen: (r) => mutateText(PARAMS, r, YAML_TOKENS, 4),
  run(text) {
    const f = parseParamsYaml(text, '/fuzz/params.yaml');
    for (const e of f.entries) {
      if (!e.nodeKey.startsWith('/')) return { wrong: `node key '${e.nodeKey}' does not start with /` };
      const v = checkParams(e.params, e.nodeKey);
      if (v !== 'ok') return v;
    }
    return 'ok';
  },
  isClear: clear,
  caseMs: 3000,
};
