/**
 * Frame conversions between Kestrel's local ENU (like mavros) and MAVLink's local NED,
 * and a flat-earth local ↔ geodetic mapping (fine over a few km).
 */
import { nedYawToEnu, wrapAngle } from '../geo/geometry.js';

export interface Vec3 {
  x: number;
  y: number;
  z: number;
}

export interface GeoOrigin {
  lat: number;
  lon: number;
  /** Metres AMSL of the local origin (ground level). */
  alt: number;
}

export interface GeoPosition {
  lat: number;
  lon: number;
  /** Metres AMSL. */
  alt: number;
}

/** x_ned = y_enu, y_ned = x_enu, z_ned = -z_enu (the same swap works both ways). */
export function enuToNed(v: Vec3): Vec3 {
  return { x: v.y, y: v.x, z: -v.z };
}

export function nedToEnu(v: Vec3): Vec3 {
  return { x: v.y, y: v.x, z: -v.z };
}

export { nedYawToEnu };

/** ENU yaw (0 = east, CCW) → NED yaw (0 = north, CW); the map is its own inverse. */
export function enuYawToNed(yawEnu: number): number {
  return wrapAngle(Math.PI / 2 - yawEnu);
}

const EARTH_RADIUS = 6378137;

export function enuToGeo(origin: GeoOrigin, x: number, y: number, z: number): GeoPosition {
  const lat = origin.lat + (y / EARTH_RADIUS) * (180 / Math.PI);
  const lon = origin.lon + (x / (EARTH_RADIUS * Math.cos((origin.lat * Math.PI) / 180))) * (180 / Math.PI);
  return { lat, lon, alt: origin.alt + z };
}

export function geoToEnu(origin: GeoOrigin, lat: number, lon: number, alt: number): Vec3 {
  const y = (((lat - origin.lat) * Math.PI) / 180) * EARTH_RADIUS;
  const x = (((lon - origin.lon) * Math.PI) / 180) * EARTH_RADIUS * Math.cos((origin.lat * Math.PI) / 180);
  return { x, y, z: alt - origin.alt };
}

/** The geodetic origin implied by one geodetic fix and the local ENU position measured at the same time. */
export function originFrom(fix: GeoPosition, localEnu: Vec3): GeoOrigin {
  const lat = fix.lat - (localEnu.y / EARTH_RADIUS) * (180 / Math.PI);
  const lon = fix.lon - (localEnu.x / (EARTH_RADIUS * Math.cos((lat * Math.PI) / 180))) * (180 / Math.PI);
  return { lat, lon, alt: fix.alt - localEnu.z };
}
