// Ground-plane geometry for the scene editor: the homography from image
// pixels to ground metres fitted to calibration pairs (normalised DLT,
// least squares), its reprojection error and its inverse for the metre
// grid. The server fits the same way when the scene is saved
// (internal/geom) and refuses a scene whose error exceeds max_error_m.

// fitHomography returns H (3×3, row-major) mapping image → ground, or
// null when there are fewer than 4 pairs or they are degenerate.
export function fitHomography(pairs) {
  if (pairs.length < 4) return null;
  const [ti, ni] = normaliser(pairs.map(p => p.image));
  const [tg, ng] = normaliser(pairs.map(p => p.ground));
  // Unknowns h0..h7 with h8 = 1: for each pair two equations.
  const A = [];
  const b = [];
  pairs.forEach((_, i) => {
    const [x, y] = ni[i];
    const [u, v] = ng[i];
    A.push([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.push(u);
    A.push([0, 0, 0, x, y, 1, -v * x, -v * y]); b.push(v);
  });
  const h = leastSquares(A, b);
  if (!h) return null;
  const Hn = [[h[0], h[1], h[2]], [h[3], h[4], h[5]], [h[6], h[7], 1]];
  // Undo the normalisation: H = Tg⁻¹ · Hn · Ti.
  const H = mul(inv3(tg), mul(Hn, ti));
  return H && H[2][2] ? H.map(r => r.map(v => v / H[2][2])) : null;
}

// project maps a point through H; null behind the camera (w ≤ 0) or at
// infinity.
export function project(H, [x, y]) {
  const w = H[2][0] * x + H[2][1] * y + H[2][2];
  if (!(Math.abs(w) > 1e-12)) return null;
  return [(H[0][0] * x + H[0][1] * y + H[0][2]) / w, (H[1][0] * x + H[1][1] * y + H[1][2]) / w, w];
}

// rmsError is the RMS distance in metres between each pair's ground point
// and its image point projected through H.
export function rmsError(H, pairs) {
  let s = 0;
  for (const p of pairs) {
    const g = project(H, p.image);
    if (!g) return Infinity;
    s += (g[0] - p.ground[0]) ** 2 + (g[1] - p.ground[1]) ** 2;
  }
  return Math.sqrt(s / pairs.length);
}

// inverse is the ground → image homography.
export function inverse(H) { return inv3(H); }

function normaliser(pts) {
  const n = pts.length;
  const cx = pts.reduce((s, p) => s + p[0], 0) / n;
  const cy = pts.reduce((s, p) => s + p[1], 0) / n;
  const d = pts.reduce((s, p) => s + Math.hypot(p[0] - cx, p[1] - cy), 0) / n || 1;
  const k = Math.SQRT2 / d;
  return [[[k, 0, -k * cx], [0, k, -k * cy], [0, 0, 1]], pts.map(p => [k * (p[0] - cx), k * (p[1] - cy)])];
}

// leastSquares solves A x ≈ b through the normal equations with
// Gaussian elimination and partial pivoting.
function leastSquares(A, b) {
  const n = A[0].length;
  const M = Array.from({ length: n }, (_, i) => {
    const row = Array.from({ length: n }, (_, j) => A.reduce((s, r) => s + r[i] * r[j], 0));
    row.push(A.reduce((s, r, k) => s + r[i] * b[k], 0));
    return row;
  });
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    if (Math.abs(M[p][c]) < 1e-12) return null;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((row, i) => row[n] / row[i]);
}

function mul(A, B) {
  if (!A || !B) return null;
  return A.map(r => B[0].map((_, j) => r.reduce((s, v, k) => s + v * B[k][j], 0)));
}

function inv3(m) {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (Math.abs(det) < 1e-15) return null;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}
