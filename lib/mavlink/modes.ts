/**
 * Flight modes of PX4 and ArduCopter as they appear in HEARTBEAT.custom_mode, with the
 * names mavros uses ("AUTO.LOITER", "OFFBOARD", "GUIDED"...). Pure tables and functions.
 */
export type Autopilot = 'px4' | 'ardupilot';

/** What Kestrel asks for, independent of the autopilot. */
export type ModeIntent = 'offboard' | 'hold' | 'land' | 'rtl' | 'takeoff' | 'manual' | 'position';

// PX4: custom_mode = main_mode << 16 | sub_mode << 24 (px4_custom_mode.h).
const PX4_MAIN: Record<number, string> = { 1: 'MANUAL', 2: 'ALTCTL', 3: 'POSCTL', 4: 'AUTO', 5: 'ACRO', 6: 'OFFBOARD', 7: 'STABILIZED', 8: 'RATTITUDE' };
const PX4_AUTO_SUB: Record<number, string> = { 1: 'READY', 2: 'TAKEOFF', 3: 'LOITER', 4: 'MISSION', 5: 'RTL', 6: 'LAND', 7: 'RTGS', 8: 'FOLLOW_TARGET', 9: 'PRECLAND' };

const APM_COPTER: Record<number, string> = {
  0: 'STABILIZE', 1: 'ACRO', 2: 'ALT_HOLD', 3: 'AUTO', 4: 'GUIDED', 5: 'LOITER', 6: 'RTL', 7: 'CIRCLE', 9: 'LAND', 11: 'DRIFT', 13: 'SPORT',
  14: 'FLIP', 15: 'AUTOTUNE', 16: 'POSHOLD', 17: 'BRAKE', 18: 'THROW', 19: 'AVOID_ADSB', 20: 'GUIDED_NOGPS', 21: 'SMART_RTL',
};

export function px4CustomMode(main: number, sub = 0): number {
  return ((main & 0xff) << 16) | ((sub & 0xff) << 24);
}

export function modeName(autopilot: Autopilot, customMode: number): string {
  if (autopilot === 'px4') {
    const main = (customMode >>> 16) & 0xff;
    const sub = (customMode >>> 24) & 0xff;
    const m = PX4_MAIN[main];
    if (!m) return `PX4_MODE(${customMode})`;
    if (m !== 'AUTO') return m;
    return `AUTO.${PX4_AUTO_SUB[sub] ?? `SUB${sub}`}`;
  }
  return APM_COPTER[customMode] ?? `APM_MODE(${customMode})`;
}

/** DO_SET_MODE parameters (param1 base mode flags, param2 custom main mode, param3 sub mode). */
export interface SetModeParams {
  name: string;
  customMode: number;
  param2: number;
  param3: number;
}

const PX4_INTENT: Record<ModeIntent, [number, number, string]> = {
  offboard: [6, 0, 'OFFBOARD'],
  hold: [4, 3, 'AUTO.LOITER'],
  land: [4, 6, 'AUTO.LAND'],
  rtl: [4, 5, 'AUTO.RTL'],
  takeoff: [4, 2, 'AUTO.TAKEOFF'],
  manual: [1, 0, 'MANUAL'],
  position: [3, 0, 'POSCTL'],
};

const APM_INTENT: Record<ModeIntent, [number, string]> = {
  offboard: [4, 'GUIDED'],
  hold: [5, 'LOITER'],
  land: [9, 'LAND'],
  rtl: [6, 'RTL'],
  // ArduCopter takes off from GUIDED with NAV_TAKEOFF; there is no takeoff mode.
  takeoff: [4, 'GUIDED'],
  manual: [0, 'STABILIZE'],
  position: [16, 'POSHOLD'],
};

export function setModeParams(autopilot: Autopilot, intent: ModeIntent): SetModeParams {
  if (autopilot === 'px4') {
    const [main, sub, name] = PX4_INTENT[intent];
    return { name, customMode: px4CustomMode(main, sub), param2: main, param3: sub };
  }
  const [mode, name] = APM_INTENT[intent];
  return { name, customMode: mode, param2: mode, param3: 0 };
}

/** DO_SET_MODE params → custom mode of the given autopilot, or undefined if it names no mode. */
export function customModeFromParams(autopilot: Autopilot, param2: number, param3: number): number | undefined {
  if (!Number.isInteger(param2) || !Number.isInteger(param3)) return undefined;
  if (autopilot === 'px4') {
    if (!PX4_MAIN[param2]) return undefined;
    if (PX4_MAIN[param2] === 'AUTO' && !PX4_AUTO_SUB[param3]) return undefined;
    return px4CustomMode(param2, PX4_MAIN[param2] === 'AUTO' ? param3 : 0);
  }
  return APM_COPTER[param2] ? param2 : undefined;
}

/** Whether the named mode follows external setpoints. */
export function isOffboardMode(autopilot: Autopilot, name: string): boolean {
  return autopilot === 'px4' ? name === 'OFFBOARD' : name === 'GUIDED';
}
