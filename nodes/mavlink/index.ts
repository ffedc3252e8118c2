/**
 * mavlink: the bridge to a PX4 or ArduPilot flight controller over serial (USB/UART) or UDP
 * (SITL), MAVLink 2. Telemetry → /fc/state and /battery; /cmd → offboard/guided setpoints
 * streamed while the command is valid, and COMMAND_LONG (with ACK, timeout, bounded retries)
 * for arm, takeoff, land, RTL and mode changes. Parameters follow mavros where they overlap.
 */
import { defineNode, topicDoc } from '../../runtime/node.js';
import { p } from '../../runtime/params.js';
import { MavlinkBridge, type BridgeConfig } from './bridge.js';
import type { Autopilot } from '../../lib/mavlink/modes.js';
import type { LinkSpec } from '../../lib/mavlink/transport.js';

export { MavlinkBridge } from './bridge.js';

export const mavlinkNode = defineNode({
  name: 'mavlink',
  description: 'MAVLink 2 bridge to a PX4/ArduPilot flight controller (serial or UDP): /fc/state, /battery from telemetry; /cmd to setpoints and commands',
  params: {
    transport: p.string('serial', "Link kind; 'memory' is an in-process wire named by `port` (simulated FC in the same process, deterministic under sim time)", ['serial', 'udp', 'memory']),
    port: p.string('/dev/ttyACM0', 'Serial device path (transport serial)'),
    baud: p.int(921600, 'Serial baud rate', { min: 1200, max: 12000000 }),
    udp_bind_port: p.int(14540, 'Local UDP port to listen on (transport udp); PX4 SITL offboard API uses 14540', { min: 0, max: 65535 }),
    udp_bind_host: p.string('0.0.0.0', 'Local UDP address to bind'),
    udp_remote_host: p.string('127.0.0.1', 'Flight controller address (transport udp)'),
    udp_remote_port: p.int(0, 'Flight controller UDP port; 0 = reply to whoever sends to udp_bind_port', { min: 0, max: 65535 }),
    system_id: p.int(1, 'Our MAVLink system id (a companion computer shares the vehicle system id)', { min: 1, max: 255 }),
    component_id: p.int(191, 'Our component id (191 = MAV_COMP_ID_ONBOARD_COMPUTER)', { min: 1, max: 255 }),
    target_system: p.int(1, 'Flight controller system id; messages from other systems are counted and ignored', { min: 1, max: 255 }),
    target_component: p.int(1, 'Flight controller component id (1 = autopilot)', { min: 1, max: 255 }),
    autopilot: p.string('px4', 'Autopilot flavour for modes and takeoff semantics; auto = from the heartbeat', ['px4', 'ardupilot', 'auto']),
    heartbeat_rate_hz: p.double(1, 'Our heartbeat rate', { min: 0.2, max: 50 }),
    heartbeat_timeout_ms: p.double(3000, 'No FC heartbeat for this long: /fc/state.connected = false', { min: 50 }),
    setpoint_rate_hz: p.double(20, 'Setpoint stream rate while a goto/velocity/orbit command is valid (PX4 needs > 2 Hz; 10+ recommended)', { min: 10, max: 100 }),
    setpoint_frame: p.string('local', 'SET_POSITION_TARGET_LOCAL_NED, or GLOBAL_INT (relative altitude) for position targets', ['local', 'global']),
    use_command_yaw: p.bool(false, 'Send VehicleCommand.yaw with goto/velocity setpoints (otherwise the FC keeps its heading)'),
    state_rate_hz: p.double(10, '/fc/state publish rate', { min: 0.5, max: 200 }),
    command_timeout_ms: p.double(1000, 'COMMAND_ACK wait before resending a COMMAND_LONG', { min: 10 }),
    command_retries: p.int(3, 'Resends of an unacknowledged COMMAND_LONG (never past its valid_until)', { min: 0, max: 10 }),
    action_repeat_ms: p.double(2000, 'A discrete action still requested but not in effect is retried after this long', { min: 50 }),
    reconnect_ms: p.double(1000, 'Serial port reopen interval after a disconnect', { min: 10 }),
    stream_rates_hz: p.doubleArray([1, 20, 20, 5, 2, 1], 'SET_MESSAGE_INTERVAL on connect for [HEARTBEAT, ATTITUDE, LOCAL_POSITION_NED, GLOBAL_POSITION_INT, SYS_STATUS, BATTERY_STATUS]; 0 = FC default', { min: 0, max: 200 }),
    signing_key_file: p.string('', 'MAVLink 2 signing key file (64 hex chars, 32 raw bytes, or a passphrase); empty = signing off. When set, unsigned or wrongly signed messages are rejected'),
    signing_link_id: p.int(1, 'Link id in our signatures', { min: 0, max: 255 }),
    max_speed_mps: p.double(15, 'Commands asking for more speed than this are rejected', { min: 0 }),
    max_altitude_m: p.double(120, 'Commands with a target above this local z are rejected', { min: 0 }),
    max_orbit_radius_m: p.double(500, 'Largest orbit radius accepted', { min: 0 }),
    goto_via: p.string('setpoints', "goto as streamed setpoints (OFFBOARD/GUIDED), or 'reposition': COMMAND_INT DO_REPOSITION where AUTOPILOT_VERSION advertises COMMAND_INT (setpoints otherwise)", ['setpoints', 'reposition']),
    fc_params: p.stringArray([], "FC parameters set on each connection, as 'NAME=VALUE' (e.g. COM_OF_LOSS_T=1.0); each must be acknowledged with that value"),
    route_enu: p.doubleArray([], 'A route uploaded as a mission once connected: x, y, z triples in local ENU (z above home); empty = none'),
    route_end: p.string('none', 'After the last route point: nothing, land, or RTL', ['none', 'land', 'rtl']),
  },
  subscribes: [
    topicDoc('/cmd', 'Arbiter decisions (ENU), each valid until valid_until'),
  ],
  publishes: [
    topicDoc('/fc/state', 'FC state in ENU; connected = false after heartbeat_timeout_ms'),
    topicDoc('/battery', 'From BATTERY_STATUS (or SYS_STATUS until one arrives)'),
  ],
  create(ctx, prm) {
    const streamIds = [0, 30, 32, 33, 1, 147];
    if (prm.stream_rates_hz.length !== streamIds.length) {
      throw new Error(`parameter 'stream_rates_hz' of node '${ctx.fqn}': expected ${streamIds.length} rates [HEARTBEAT, ATTITUDE, LOCAL_POSITION_NED, GLOBAL_POSITION_INT, SYS_STATUS, BATTERY_STATUS], got ${prm.stream_rates_hz.length}`);
    }
    if (prm.route_enu.length % 3 !== 0) {
      throw new Error(`parameter 'route_enu' of node '${ctx.fqn}': expected x, y, z triples, got ${prm.route_enu.length} numbers`);
    }
    const fcParams = prm.fc_params.map((s) => {
      const m = /^([A-Za-z0-9_]{1,16})=(.+)$/.exec(s.trim());
      const value = m ? Number(m[2]) : Number.NaN;
      if (!m || !Number.isFinite(value)) throw new Error(`parameter 'fc_params' of node '${ctx.fqn}': '${s}' is not NAME=VALUE with a name of 1..16 characters and a finite number`);
      return { name: m[1], value };
    });
    const route = Array.from({ length: prm.route_enu.length / 3 }, (_, i) => ({ x: prm.route_enu[3 * i], y: prm.route_enu[3 * i + 1], z: prm.route_enu[3 * i + 2] }));
    const link: LinkSpec = prm.transport === 'memory'
      ? { kind: 'memory', name: prm.port }
      : prm.transport === 'serial'
      ? { kind: 'serial', path: prm.port, baudRate: prm.baud }
      : { kind: 'udp', port: prm.udp_bind_port, host: prm.udp_bind_host, remoteHost: prm.udp_remote_host, remotePort: prm.udp_remote_port || undefined };
    const cfg: BridgeConfig = {
      link,
      systemId: prm.system_id,
      componentId: prm.component_id,
      targetSystem: prm.target_system,
      targetComponent: prm.target_component,
      autopilot: prm.autopilot as Autopilot | 'auto',
      heartbeatRateHz: prm.heartbeat_rate_hz,
      heartbeatTimeoutMs: prm.heartbeat_timeout_ms,
      setpointRateHz: prm.setpoint_rate_hz,
      setpointFrame: prm.setpoint_frame as 'local' | 'global',
      useCommandYaw: prm.use_command_yaw,
      stateRateHz: prm.state_rate_hz,
      commandTimeoutMs: prm.command_timeout_ms,
      commandRetries: prm.command_retries,
      actionRepeatMs: prm.action_repeat_ms,
      reconnectMs: prm.reconnect_ms,
      streamRates: Object.fromEntries(streamIds.map((id, i) => [id, prm.stream_rates_hz[i]])),
      signingKeyFile: prm.signing_key_file,
      signingLinkId: prm.signing_link_id,
      limits: { maxSpeed: prm.max_speed_mps, maxAltitude: prm.max_altitude_m, maxOrbitRadius: prm.max_orbit_radius_m },
      gotoVia: prm.goto_via as 'setpoints' | 'reposition',
      fcParams,
      route,
      routeEnd: prm.route_end as 'none' | 'land' | 'rtl',
    };
    const bridge = new MavlinkBridge(ctx, cfg);
    return {
      activate: () => bridge.activate(),
      shutdown: () => bridge.shutdown(),
    };
  },
});
