/**
 * Constant-velocity Kalman filter, one independent (position, velocity) pair per axis.
 * With diagonal process and measurement noise the multi-axis filter of SORT/ByteTrack
 * separates exactly into these 2×2 filters, which keeps the maths small and allocation-free.
 */
export interface Axis {
  /** Position and velocity (units per second). */
  p: number;
  v: number;
  /** Covariance [[pp, pv], [pv, vv]]. */
  pp: number;
  pv: number;
  vv: number;
}

export function initAxis(p: number, posVar: number, velVar: number): Axis {
  return { p, v: 0, pp: posVar, pv: 0, vv: velVar };
}

/**
 * Predicts `dt` seconds ahead. Process noise is white acceleration with spectral density
 * `q` (units²/s³), the standard discretisation.
 */
export function predictAxis(a: Axis, dt: number, q: number): Axis {
  const dt2 = dt * dt;
  const dt3 = dt2 * dt;
  return {
    p: a.p + a.v * dt,
    v: a.v,
    pp: a.pp + 2 * dt * a.pv + dt2 * a.vv + (q * dt3) / 3,
    pv: a.pv + dt * a.vv + (q * dt2) / 2,
    vv: a.vv + q * dt,
  };
}

/** Measurement update with a position measurement `z` of variance `r`. */
export function updateAxis(a: Axis, z: number, r: number): Axis {
  const s = a.pp + r;
  const k0 = a.pp / s;
  const k1 = a.pv / s;
  const y = z - a.p;
  return {
    p: a.p + k0 * y,
    v: a.v + k1 * y,
    pp: (1 - k0) * a.pp,
    pv: (1 - k0) * a.pv,
    vv: a.vv - k1 * a.pv,
  };
}
