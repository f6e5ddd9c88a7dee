package track

import (
	"math"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// The noise model scales with the box height so that a filter behaves the
// same for a near, tall pedestrian and a distant, short one. Values are
// those of DeepSORT and ByteTrack.
const (
	stdWeightPosition = 1.0 / 20
	stdWeightVelocity = 1.0 / 160
	// The aspect ratio barely changes for a rigid or walking object, so it
	// gets small absolute noise instead of height-relative noise.
	stdAspect         = 1e-2
	stdAspectVelocity = 1e-5
	stdAspectMeasured = 1e-1
)

// kalman is a constant-velocity filter over the state
// (cx, cy, a, h, vcx, vcy, va, vh). Matrices are plain arrays so that a
// step allocates nothing; the structure of the motion and measurement
// matrices (identity plus a shift) is exploited instead of multiplying
// by them.
type kalman struct {
	mean [8]float64
	cov  [8][8]float64
}

// xyah converts a box to the measurement space of the filter.
func xyah(b geom.Box) [4]float64 {
	return [4]float64{b.X + b.W/2, b.Y + b.H/2, b.W / b.H, b.H}
}

// newKalman starts a filter at measurement z with no velocity; the
// velocity variance is wide because nothing is known about it yet.
func newKalman(z [4]float64) kalman {
	var k kalman
	copy(k.mean[:4], z[:])
	h := z[3]
	std := [8]float64{
		2 * stdWeightPosition * h, 2 * stdWeightPosition * h, stdAspect, 2 * stdWeightPosition * h,
		10 * stdWeightVelocity * h, 10 * stdWeightVelocity * h, stdAspectVelocity, 10 * stdWeightVelocity * h,
	}
	for i, s := range std {
		k.cov[i][i] = s * s
	}
	return k
}

// box is the filter's current estimate as a left/top/width/height box.
func (k *kalman) box() geom.Box {
	h := k.mean[3]
	w := k.mean[2] * h
	return geom.Box{X: k.mean[0] - w/2, Y: k.mean[1] - h/2, W: w, H: h}
}

// predict advances the filter one frame: x' = F x, P' = F P Fᵀ + Q, with
// F = I + shift (position += velocity).
func (k *kalman) predict() {
	// Process noise is sized from the height before the motion step, as
	// in the reference implementation.
	h := k.mean[3]
	p, v := stdWeightPosition*h, stdWeightVelocity*h
	q := [8]float64{p * p, p * p, stdAspect * stdAspect, p * p, v * v, v * v, stdAspectVelocity * stdAspectVelocity, v * v}
	for i := 0; i < 4; i++ {
		k.mean[i] += k.mean[i+4]
	}
	c := &k.cov
	for i := 0; i < 4; i++ { // F P: row i += row i+4
		for j := 0; j < 8; j++ {
			c[i][j] += c[i+4][j]
		}
	}
	for j := 0; j < 4; j++ { // (F P) Fᵀ: column j += column j+4
		for i := 0; i < 8; i++ {
			c[i][j] += c[i][j+4]
		}
	}
	for i := range q {
		c[i][i] += q[i]
	}
}

// update corrects the filter with measurement z. It returns false, leaving
// the filter unchanged, if the innovation covariance is not positive
// definite (only possible with non-finite input).
func (k *kalman) update(z [4]float64) bool {
	// Measurement noise uses the predicted height.
	h := k.mean[3]
	r := stdWeightPosition * h
	rdiag := [4]float64{r * r, r * r, stdAspectMeasured * stdAspectMeasured, r * r}
	// S = H P Hᵀ + R is the top-left 4×4 block of P plus R.
	var s [4][4]float64
	for i := 0; i < 4; i++ {
		copy(s[i][:], k.cov[i][:4])
		s[i][i] += rdiag[i]
	}
	sinv, ok := invertSPD4(&s)
	if !ok {
		return false
	}
	// H P is the top four rows of P (4×8); Kᵀ = S⁻¹ H P.
	var hp, kt [4][8]float64
	copy(hp[:], k.cov[:4])
	for i := 0; i < 4; i++ {
		for j := 0; j < 8; j++ {
			kt[i][j] = sinv[i][0]*hp[0][j] + sinv[i][1]*hp[1][j] + sinv[i][2]*hp[2][j] + sinv[i][3]*hp[3][j]
		}
	}
	var y [4]float64
	for i := range y {
		y[i] = z[i] - k.mean[i]
	}
	for j := 0; j < 8; j++ {
		k.mean[j] += kt[0][j]*y[0] + kt[1][j]*y[1] + kt[2][j]*y[2] + kt[3][j]*y[3]
	}
	k.correctCov(&kt, &hp)
	return true
}

// correctCov applies P −= K S Kᵀ, which equals K (H P). The result is
// symmetric, so only the upper triangle is computed and mirrored: half the
// work, and rounding cannot make P drift away from symmetry.
func (k *kalman) correctCov(kt, hp *[4][8]float64) {
	for a := 0; a < 8; a++ {
		for b := a; b < 8; b++ {
			v := k.cov[a][b] - (kt[0][a]*hp[0][b] + kt[1][a]*hp[1][b] + kt[2][a]*hp[2][b] + kt[3][a]*hp[3][b])
			k.cov[a][b], k.cov[b][a] = v, v
		}
	}
}

// invertSPD4 inverts a symmetric positive-definite 4×4 matrix through its
// Cholesky factor L: S⁻¹ = L⁻ᵀ L⁻¹. Only four divisions are needed.
func invertSPD4(s *[4][4]float64) ([4][4]float64, bool) {
	var l, li, inv [4][4]float64
	for j := 0; j < 4; j++ {
		d := s[j][j]
		for k := 0; k < j; k++ {
			d -= l[j][k] * l[j][k]
		}
		if !(d > 0) {
			return inv, false
		}
		l[j][j] = math.Sqrt(d)
		li[j][j] = 1 / l[j][j]
		for i := j + 1; i < 4; i++ {
			v := s[i][j]
			for k := 0; k < j; k++ {
				v -= l[i][k] * l[j][k]
			}
			l[i][j] = v * li[j][j]
		}
	}
	// L⁻¹ by forward substitution, column by column.
	for j := 0; j < 4; j++ {
		for i := j + 1; i < 4; i++ {
			var v float64
			for k := j; k < i; k++ {
				v -= l[i][k] * li[k][j]
			}
			li[i][j] = v * li[i][i]
		}
	}
	for i := 0; i < 4; i++ {
		for j := i; j < 4; j++ {
			var v float64
			for k := j; k < 4; k++ { // (L⁻ᵀ L⁻¹)ᵢⱼ = Σₖ L⁻¹ₖᵢ L⁻¹ₖⱼ, k ≥ max(i, j)
				v += li[k][i] * li[k][j]
			}
			inv[i][j], inv[j][i] = v, v
		}
	}
	return inv, true
}
