/**
 * Minimum-cost assignment (Hungarian / Kuhn–Munkres with potentials, O(n²m)) for a
 * rectangular cost matrix, with a gate: pairs costlier than `maxCost` are never matched.
 */

/** Returns pairs [row, col] of an optimal assignment among pairs with cost ≤ maxCost. */
export function assign(cost: readonly (readonly number[])[], maxCost: number): [number, number][] {
  const rows = cost.length;
  const cols = rows > 0 ? cost[0].length : 0;
  if (rows === 0 || cols === 0) return [];
  // Gated pairs get a cost above any sum of real ones, so the optimum avoids them when it can;
  // any that remain are dropped afterwards.
  const big = (maxCost + 1) * (Math.max(rows, cols) + 1) + 1;
  const transpose = rows > cols;
  const n = transpose ? cols : rows; // n ≤ m
  const m = transpose ? rows : cols;
  const c = (i: number, j: number): number => {
    const v = transpose ? cost[j][i] : cost[i][j];
    return Number.isFinite(v) && v <= maxCost ? v : big;
  };
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j] = row matched to column j (1-based), 0 = none
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = c(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  const out: [number, number][] = [];
  for (let j = 1; j <= m; j++) {
    if (p[j] === 0) continue;
    const i = p[j] - 1;
    const r = transpose ? j - 1 : i;
    const col = transpose ? i : j - 1;
    const val = cost[r][col];
    if (Number.isFinite(val) && val <= maxCost) out.push([r, col]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}
