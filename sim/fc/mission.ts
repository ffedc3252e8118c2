/**
 * The mission protocol of the simulated FC and the flying of a mission. Upload (MISSION_COUNT
 * → MISSION_REQUEST_INT per item → MISSION_ACK), download (MISSION_REQUEST_LIST → COUNT →
 * REQUEST_INT/REQUEST → ITEM_INT/ITEM), clear, set current, MISSION_CURRENT and
 * MISSION_ITEM_REACHED, for the mission, fence and rally types. In AUTO.MISSION (PX4) or AUTO
 * (ArduCopter, whose item 0 is home) the vehicle flies the items: takeoff, waypoints with
 * acceptance radius and hold time, loiter, land (then auto-disarm), RTL. Unsupported commands
 * and frames are refused in the upload's MISSION_ACK, items out of order are re-requested and
 * counted, and a transfer that stalls is retried and then abandoned with MISSION_ACK ERROR.
 */
import { common } from 'node-mavlink';
import type { FcCore } from './core.js';
import type { Guidance } from './guidance.js';
import type { ParamsProtocol } from './params.js';

const { MavCmd, MavFrame, MavMissionResult: R, MavMissionType, MavSeverity } = common;

export interface MissionItem {
  seq: number;
  frame: number;
  command: number;
  current: number;
  autocontinue: number;
  params: [number, number, number, number];
  /** degE7 for global frames. */
  x: number;
  y: number;
  z: number;
}

const NAV_POSITION = new Set<number>([MavCmd.NAV_WAYPOINT, MavCmd.NAV_TAKEOFF, MavCmd.NAV_LAND, MavCmd.NAV_LOITER_TIME, MavCmd.NAV_LOITER_UNLIM]);
const SUPPORTED = new Set<number>([...NAV_POSITION, MavCmd.NAV_RETURN_TO_LAUNCH, MavCmd.DO_CHANGE_SPEED]);
const GLOBAL_FRAMES = new Set<number>([MavFrame.GLOBAL, MavFrame.GLOBAL_INT, MavFrame.GLOBAL_RELATIVE_ALT, MavFrame.GLOBAL_RELATIVE_ALT_INT]);
const RETRY_MS = 250;
const RETRIES = 5;

type Peer = { sysid: number; compid: number };

interface Upload {
  type: number;
  count: number;
  items: MissionItem[];
  peer: Peer;
  lastMs: number;
  tries: number;
}

export class MissionProtocol {
  private readonly stores = new Map<number, MissionItem[]>([[MavMissionType.MISSION, []], [MavMissionType.FENCE, []], [MavMissionType.RALLY, []]]);
  private upload: Upload | undefined;
  /** Index of the item being flown. */
  current = 0;
  private reached = -1;
  private holdUntil: number | undefined;
  private finished = false;
  /** Items received out of order, transfers abandoned. */
  readonly errors = { outOfOrder: 0, abandoned: 0, refused: 0 };

  constructor(private readonly fc: FcCore, private readonly guidance: Guidance, private readonly params: ParamsProtocol) {
    guidance.mission = (now) => this.fly(now);
  }

  items(type: number = MavMissionType.MISSION): readonly MissionItem[] {
    return this.stores.get(type) ?? [];
  }

  /** The first item flown: ArduPilot's item 0 is home. */
  private firstSeq(): number {
    return this.fc.autopilot === 'ardupilot' ? 1 : 0;
  }

  hasMission(): boolean {
    return this.items().length > this.firstSeq();
  }

  private ack(peer: Peer, type: number, result: number): void {
    const m = new common.MissionAck();
    m.targetSystem = peer.sysid;
    m.targetComponent = peer.compid;
    m.type = result;
    m.missionType = type;
    m.opaqueId = 0;
    this.fc.send(m);
  }

  private request(u: Upload): void {
    const m = new common.MissionRequestInt();
    m.targetSystem = u.peer.sysid;
    m.targetComponent = u.peer.compid;
    m.seq = u.items.length;
    m.missionType = u.type;
    u.lastMs = this.fc.clock.now();
    this.fc.send(m);
  }

  private storeFor(type: number, peer: Peer): MissionItem[] | undefined {
    const s = this.stores.get(type);
    if (!s) this.ack(peer, type, R.UNSUPPORTED);
    return s;
  }

  onCount(m: InstanceType<typeof common.MissionCount>, peer: Peer): void {
    if (!this.fc.forUs(m.targetSystem, m.targetComponent)) return;
    if (!this.storeFor(m.missionType, peer)) return;
    if (m.count === 0) {
      this.replace(m.missionType, []);
      this.ack(peer, m.missionType, R.ACCEPTED);
      return;
    }
    if (m.count > 500) {
      this.errors.refused++;
      this.ack(peer, m.missionType, R.NO_SPACE);
      return;
    }
    this.upload = { type: m.missionType, count: m.count, items: [], peer, lastMs: 0, tries: 0 };
    this.request(this.upload);
  }

  onItem(it: MissionItem, type: number, target: { targetSystem: number; targetComponent: number }, peer: Peer): void {
    if (!this.fc.forUs(target.targetSystem, target.targetComponent)) return;
    const u = this.upload;
    if (!u || u.type !== type) {
      this.errors.outOfOrder++;
      return;
    }
    if (it.seq !== u.items.length) {
      this.errors.outOfOrder++;
      this.request(u);
      return;
    }
    const why = this.refusal(it, type);
    if (why !== undefined) {
      this.upload = undefined;
      this.errors.refused++;
      this.fc.statusText(MavSeverity.ERROR, `Mission item ${it.seq} refused: ${why.text}`);
      this.ack(peer, type, why.result);
      return;
    }
    u.items.push(it);
    u.tries = 0;
    if (u.items.length < u.count) {
      this.request(u);
      return;
    }
    this.upload = undefined;
    this.replace(type, u.items);
    this.ack(peer, type, R.ACCEPTED);
    if (type === MavMissionType.MISSION) this.fc.statusText(MavSeverity.INFO, `Mission accepted: ${u.items.length} items`);
  }

  private refusal(it: MissionItem, type: number): { result: number; text: string } | undefined {
    if (type !== MavMissionType.MISSION) return undefined;
    if (!SUPPORTED.has(it.command)) return { result: R.UNSUPPORTED, text: `command ${it.command} not supported` };
    if (NAV_POSITION.has(it.command) && !GLOBAL_FRAMES.has(it.frame)) return { result: R.UNSUPPORTED_FRAME, text: `frame ${it.frame} not supported for command ${it.command}` };
    const finite = [...it.params.filter((p, i) => !(i === 3 && Number.isNaN(p))), it.x, it.y, it.z].every(Number.isFinite);
    if (!finite) return { result: R.INVALID, text: 'non-finite value' };
    return undefined;
  }

  private replace(type: number, items: MissionItem[]): void {
    this.stores.set(type, items);
    if (type === MavMissionType.MISSION) {
      this.setCurrent(this.firstSeq());
      this.sendCurrent();
    }
  }

  onRequestList(m: InstanceType<typeof common.MissionRequestList>, peer: Peer): void {
    if (!this.fc.forUs(m.targetSystem, m.targetComponent)) return;
    const s = this.storeFor(m.missionType, peer);
    if (!s) return;
    const c = new common.MissionCount();
    c.targetSystem = peer.sysid;
    c.targetComponent = peer.compid;
    c.count = s.length;
    c.missionType = m.missionType;
    c.opaqueId = 0;
    this.fc.send(c);
  }

  /** MISSION_REQUEST_INT (int: true) or the legacy MISSION_REQUEST (answered with MISSION_ITEM). */
  onRequest(m: { targetSystem: number; targetComponent: number; seq: number; missionType: number }, int: boolean, peer: Peer): void {
    if (!this.fc.forUs(m.targetSystem, m.targetComponent)) return;
    const s = this.storeFor(m.missionType, peer);
    if (!s) return;
    const it = s[m.seq];
    if (!it) {
      this.errors.refused++;
      this.ack(peer, m.missionType, R.INVALID_SEQUENCE);
      return;
    }
    const out = int ? new common.MissionItemInt() : new common.MissionItem();
    out.targetSystem = peer.sysid;
    out.targetComponent = peer.compid;
    out.seq = it.seq;
    out.frame = it.frame;
    out.command = it.command;
    out.current = m.missionType === MavMissionType.MISSION && it.seq === this.current ? 1 : 0;
    out.autocontinue = it.autocontinue;
    [out.param1, out.param2, out.param3, out.param4] = it.params;
    const global = GLOBAL_FRAMES.has(it.frame);
    out.x = int || !global ? it.x : it.x / 1e7;
    out.y = int || !global ? it.y : it.y / 1e7;
    out.z = it.z;
    out.missionType = m.missionType;
    this.fc.send(out);
  }

  onClearAll(m: InstanceType<typeof common.MissionClearAll>, peer: Peer): void {
    if (!this.fc.forUs(m.targetSystem, m.targetComponent)) return;
    const types = m.missionType === MavMissionType.ALL ? [...this.stores.keys()] : [m.missionType];
    if (!types.every((t) => this.stores.has(t))) {
      this.ack(peer, m.missionType, R.UNSUPPORTED);
      return;
    }
    for (const t of types) this.replace(t, []);
    this.ack(peer, m.missionType, R.ACCEPTED);
  }

  /** MISSION_SET_CURRENT or DO_SET_MISSION_CURRENT; false when seq is out of range. */
  setCurrent(seq: number): boolean {
    const n = this.items().length;
    if (n > 0 && !(seq >= 0 && seq < n)) return false;
    this.current = seq;
    this.reached = -1;
    this.holdUntil = undefined;
    this.finished = false;
    return true;
  }

  onSetCurrent(m: InstanceType<typeof common.MissionSetCurrent>): void {
    if (!this.fc.forUs(m.targetSystem, m.targetComponent)) return;
    if (!this.setCurrent(m.seq)) {
      this.errors.refused++;
      this.fc.statusText(MavSeverity.ERROR, `Mission: no item ${m.seq}`);
    }
    this.sendCurrent();
  }

  currentMessage(): InstanceType<typeof common.MissionCurrent> {
    const m = new common.MissionCurrent();
    const n = this.items().length;
    m.seq = this.current;
    m.total = n === 0 ? 0 : n;
    m.missionState = n === 0 ? 1 : this.finished ? 5 : this.fc.mode === 'mission' ? 3 : 4; // NO_MISSION, COMPLETE, ACTIVE, PAUSED
    m.missionMode = this.fc.mode === 'mission' ? 1 : 0;
    m.missionId = 0;
    m.fenceId = 0;
    m.rallyPointsId = 0;
    return m;
  }

  private sendCurrent(): void {
    this.fc.send(this.currentMessage());
  }

  /** A transfer whose next item does not come is re-requested, then abandoned. */
  tick(now: number): void {
    const u = this.upload;
    if (!u || now - u.lastMs < RETRY_MS) return;
    if (u.tries >= RETRIES) {
      this.upload = undefined;
      this.errors.abandoned++;
      this.ack(u.peer, u.type, R.OPERATION_CANCELLED);
      return;
    }
    u.tries++;
    this.request(u);
  }

  /** Entering the mission mode: PX4 and ArduPilot both refuse it without a mission. */
  canStart(): boolean {
    if (this.hasMission()) {
      if (this.finished || this.current < this.firstSeq()) this.setCurrent(this.firstSeq());
      return true;
    }
    this.fc.statusText(MavSeverity.CRITICAL, 'Mission rejected: no mission uploaded');
    return false;
  }

  /** Whether the item being flown is a landing (the failsafes disarm on touchdown). */
  landing(): boolean {
    return this.items()[this.current]?.command === MavCmd.NAV_LAND;
  }

  private localOf(it: MissionItem): { x: number; y: number; z: number } {
    const t = this.fc.v.truth();
    if (it.x === 0 && it.y === 0) {
      // Lat/lon 0: here (PX4 and ArduPilot both read it so for takeoff and land).
      const rel = it.frame === MavFrame.GLOBAL || it.frame === MavFrame.GLOBAL_INT ? it.z - this.fc.v.origin.alt : it.z;
      return { x: t.x, y: t.y, z: rel };
    }
    return this.guidance.globalToLocal(it.frame, it.x / 1e7, it.y / 1e7, it.z) ?? { x: t.x, y: t.y, z: t.z };
  }

  private acceptance(it: MissionItem): number {
    if (it.command === MavCmd.NAV_WAYPOINT && it.params[1] > 0) return it.params[1];
    const r = this.fc.autopilot === 'px4' ? this.params.get('NAV_ACC_RAD') : (this.params.get('WPNAV_RADIUS') ?? 200) / 100;
    return r !== undefined && r > 0 ? r : 2;
  }

  private advance(): void {
    const fc = this.fc;
    const it = this.items()[this.current];
    if (it && this.reached !== it.seq) {
      this.reached = it.seq;
      const m = new common.MissionItemReached();
      m.seq = it.seq;
      fc.send(m);
    }
    this.holdUntil = undefined;
    if (this.current + 1 >= this.items().length) {
      this.finished = true;
      fc.statusText(MavSeverity.INFO, 'Mission finished, loitering');
      // PX4 drops to AUTO.LOITER at the end; ArduCopter stays in AUTO; both hold at the last waypoint.
      if (fc.autopilot === 'px4') {
        fc.setMode('hold');
        fc.holdTarget = this.lastPosition();
      }
    } else {
      this.current++;
    }
    this.sendCurrent();
  }

  private lastPosition(): { x: number; y: number; z: number } | undefined {
    const items = this.items().slice(this.firstSeq(), this.current + 1).filter((i) => NAV_POSITION.has(i.command) && i.command !== MavCmd.NAV_LAND);
    const last = items.at(-1);
    return last ? this.localOf(last) : undefined;
  }

  /** Guidance in the mission mode. */
  private fly(now: number): void {
    const fc = this.fc;
    const v = fc.v;
    const it = this.items()[this.current];
    if (!it || this.finished) {
      const last = this.lastPosition();
      v.setTarget(last ? { kind: 'position', ...last } : { kind: 'hold' });
      return;
    }
    const t = v.truth();
    switch (it.command) {
      case MavCmd.DO_CHANGE_SPEED:
        this.advance();
        return;
      case MavCmd.NAV_RETURN_TO_LAUNCH:
        this.advance();
        fc.setMode('rtl');
        return;
      case MavCmd.NAV_LAND: {
        const p = this.localOf(it);
        const there = it.x === 0 && it.y === 0 ? { x: t.x, y: t.y } : p;
        if (Math.hypot(t.x - there.x, t.y - there.y) > 0.2 && t.z > 0.5) v.setTarget({ kind: 'position', x: there.x, y: there.y, z: t.z });
        else v.setTarget({ kind: 'land' });
        return; // the touchdown disarms (failsafes), which ends the mission
      }
      case MavCmd.NAV_TAKEOFF: {
        const p = this.localOf(it);
        const home = v.homePosition();
        const x = it.x === 0 && it.y === 0 ? home.x : p.x;
        const y = it.x === 0 && it.y === 0 ? home.y : p.y;
        v.setTarget({ kind: 'position', x, y, z: p.z });
        if (Math.abs(t.z - p.z) < 0.3) this.advance();
        return;
      }
      default: {
        const p = this.localOf(it);
        v.setTarget({ kind: 'position', x: p.x, y: p.y, z: p.z });
        if (Math.hypot(t.x - p.x, t.y - p.y, t.z - p.z) > this.acceptance(it)) return;
        if (it.command === MavCmd.NAV_LOITER_UNLIM) return;
        const holdS = it.command === MavCmd.NAV_WAYPOINT || it.command === MavCmd.NAV_LOITER_TIME ? Math.max(0, it.params[0]) : 0;
        this.holdUntil ??= now + holdS * 1000;
        if (now >= this.holdUntil) this.advance();
      }
    }
  }

  /** The mission mode was left: the item being flown stays current (resumed on re-entry). */
  onModeChange(): void {
    this.holdUntil = undefined;
  }
}

export function itemFromInt(m: InstanceType<typeof common.MissionItemInt>): MissionItem {
  return { seq: m.seq, frame: m.frame, command: m.command, current: m.current, autocontinue: m.autocontinue, params: [m.param1, m.param2, m.param3, m.param4], x: m.x, y: m.y, z: m.z };
}

/** Legacy MISSION_ITEM (float lat/lon), stored as degE7 like MISSION_ITEM_INT. */
export function itemFromFloat(m: InstanceType<typeof common.MissionItem>): MissionItem {
  const global = GLOBAL_FRAMES.has(m.frame);
  return { seq: m.seq, frame: m.frame, command: m.command, current: m.current, autocontinue: m.autocontinue, params: [m.param1, m.param2, m.param3, m.param4], x: global ? Math.round(m.x * 1e7) : m.x, y: global ? Math.round(m.y * 1e7) : m.y, z: m.z };
}
