import { describe, expect, it } from 'vitest';
import { makeMsg } from '../../msgs/index.js';
import { enuToNed, enuYawToNed, nedToEnu, nedYawToEnu } from '../../lib/mavlink/frames.js';
import { customModeFromParams, modeName, setModeParams } from '../../lib/mavlink/modes.js';
import { orbitVelocity, setpointFor, validateCommand } from './command-rules.js';

const LIM = { maxSpeed: 10, maxAltitude: 100, maxOrbitRadius: 200 };
const cmd = (f: Parameters<typeof makeMsg<'kestrel_msgs/msg/VehicleCommand'>>[1]) =>
  makeMsg('kestrel_msgs/msg/VehicleCommand', { valid_until: { sec: 10, nanosec: 0 }, ...f });

describe('validateCommand', () => {
  it('accepts well-formed commands', () => {
    expect(validateCommand(cmd({ action: 'goto', target: { x: 1, y: 2, z: 5 }, speed: 3 }), LIM)).toBeUndefined();
    expect(validateCommand(cmd({ action: 'takeoff', target: { x: 0, y: 0, z: 5 } }), LIM)).toBeUndefined();
    expect(validateCommand(cmd({ action: 'hold' }), LIM)).toBeUndefined();
  });

  it('names what is wrong with bad commands', () => {
    expect(validateCommand(cmd({ action: 'fly' }), LIM)).toMatch(/unknown action 'fly'/);
    expect(validateCommand(cmd({ action: 'hold', valid_until: { sec: 0, nanosec: 0 } }), LIM)).toMatch(/valid_until is not set/);
    expect(validateCommand(cmd({ action: 'goto', target: { x: Number.NaN, y: 0, z: 5 } }), LIM)).toMatch(/not finite/);
    expect(validateCommand(cmd({ action: 'goto', target: { x: 0, y: 0, z: 500 } }), LIM)).toMatch(/altitude 500 m outside \[0, 100\]/);
    expect(validateCommand(cmd({ action: 'velocity', velocity: { x: 20, y: 0, z: 0 } }), LIM)).toMatch(/norm 20.00 m\/s above 10/);
    expect(validateCommand(cmd({ action: 'orbit', target: { x: 0, y: 0, z: 5 }, radius: 0, speed: 2 }), LIM)).toMatch(/radius 0 m/);
    expect(validateCommand(cmd({ action: 'takeoff', target: { x: 0, y: 0, z: 0 } }), LIM)).toMatch(/takeoff altitude/);
    expect(validateCommand(cmd({ action: 'goto', target: { x: 0, y: 0, z: 5 }, speed: -1 }), LIM)).toMatch(/speed -1/);
  });
});

describe('setpoints and frames', () => {
  it('converts ENU ↔ NED positions and yaw', () => {
    expect(enuToNed({ x: 1, y: 2, z: 3 })).toEqual({ x: 2, y: 1, z: -3 });
    expect(nedToEnu(enuToNed({ x: 1, y: 2, z: 3 }))).toEqual({ x: 1, y: 2, z: 3 });
    expect(enuYawToNed(0)).toBeCloseTo(Math.PI / 2); // east
    expect(nedYawToEnu(enuYawToNed(0.3))).toBeCloseTo(0.3);
  });

  it('orbits counter-clockwise, converging on the radius, facing the centre', () => {
    const o = orbitVelocity({ x: 10, y: 0, z: 5 }, { x: 0, y: 0, z: 5 }, 10, 2);
    expect(o.v.x).toBeCloseTo(0);
    expect(o.v.y).toBeCloseTo(2);
    expect(Math.abs(o.yaw)).toBeCloseTo(Math.PI); // facing west, towards the centre
    const inside = orbitVelocity({ x: 5, y: 0, z: 5 }, { x: 0, y: 0, z: 5 }, 10, 2);
    expect(inside.v.x).toBeGreaterThan(0); // pushed outwards
  });

  it('needs a position for orbit, ignores yaw unless asked', () => {
    const c = cmd({ action: 'orbit', target: { x: 0, y: 0, z: 5 }, radius: 5, speed: 1 });
    expect(setpointFor(c, undefined, false)).toMatch(/needs the vehicle position/);
    const g = setpointFor(cmd({ action: 'goto', target: { x: 1, y: 2, z: 3 }, yaw: 1 }), undefined, false);
    expect(g).toEqual({ kind: 'position', p: { x: 1, y: 2, z: 3 }, yaw: undefined });
  });
});

describe('modes', () => {
  it('maps PX4 and ArduCopter custom modes both ways', () => {
    const off = setModeParams('px4', 'offboard');
    expect(modeName('px4', off.customMode)).toBe('OFFBOARD');
    const hold = setModeParams('px4', 'hold');
    expect(modeName('px4', hold.customMode)).toBe('AUTO.LOITER');
    expect(customModeFromParams('px4', hold.param2, hold.param3)).toBe(hold.customMode);
    expect(modeName('ardupilot', setModeParams('ardupilot', 'offboard').customMode)).toBe('GUIDED');
    expect(customModeFromParams('ardupilot', 99, 0)).toBeUndefined();
    expect(customModeFromParams('px4', 4, 99)).toBeUndefined();
  });
});
