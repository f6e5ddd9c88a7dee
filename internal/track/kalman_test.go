package track

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vigil-cctv/vigil/internal/geom"
	"pgregory.net/rapid"
)

// The expected numbers below are worked by hand from the DeepSORT /
// ByteTrack noise model for a box with centre (100, 200), aspect 0.5 and
// height 80, so that a silent change to the model shows up here.
func TestKalmanInitiate(t *testing.T) {
	k := newKalman([4]float64{100, 200, 0.5, 80})
	require.Equal(t, [8]float64{100, 200, 0.5, 80, 0, 0, 0, 0}, k.mean)
	// position std 2·80/20 = 8, velocity std 10·80/160 = 5.
	want := [8]float64{64, 64, 1e-4, 64, 25, 25, 1e-10, 25}
	for i := 0; i < 8; i++ {
		for j := 0; j < 8; j++ {
			if i == j {
				require.InDelta(t, want[i], k.cov[i][j], 1e-15, "cov[%d][%d]", i, j)
			} else {
				require.Zero(t, k.cov[i][j], "cov[%d][%d]", i, j)
			}
		}
	}
}

func TestKalmanPredict(t *testing.T) {
	k := newKalman([4]float64{100, 200, 0.5, 80})
	k.mean[4], k.mean[7] = 3, -1 // moving right and shrinking
	k.predict()
	require.InDeltaSlice(t, []float64{103, 200, 0.5, 79, 3, 0, 0, -1}, k.mean[:], 1e-12)
	// Var(x) = 64 + 25 + (80/20)² = 105; Cov(x, vx) = 25;
	// Var(vx) = 25 + (80/160)² = 25.25; aspect: 1e-4 + 1e-10 + 1e-4.
	require.InDelta(t, 105, k.cov[0][0], 1e-12)
	require.InDelta(t, 25, k.cov[0][4], 1e-12)
	require.InDelta(t, 25, k.cov[4][0], 1e-12)
	require.InDelta(t, 25.25, k.cov[4][4], 1e-12)
	require.InDelta(t, 2e-4+1e-10, k.cov[2][2], 1e-18)
	require.Zero(t, k.cov[0][1])
}

func TestKalmanUpdate(t *testing.T) {
	k := newKalman([4]float64{100, 200, 0.5, 80})
	k.predict()
	require.True(t, k.update([4]float64{110, 200, 0.5, 80}))
	// S = 105 + (80/20)² = 121, so the gain on x is 105/121 and on vx
	// 25/121; the innovation is 10 px.
	require.InDelta(t, 100+10*105.0/121, k.mean[0], 1e-12)
	require.InDelta(t, 10*25.0/121, k.mean[4], 1e-12)
	require.InDelta(t, 200, k.mean[1], 1e-12)
	require.InDelta(t, 80, k.mean[3], 1e-12)
	// P' = P − K S Kᵀ: 105 − 105²/121, 25 − 105·25/121, 25.25 − 25²/121.
	require.InDelta(t, 105-105.0*105/121, k.cov[0][0], 1e-12)
	require.InDelta(t, 25-105.0*25/121, k.cov[0][4], 1e-12)
	require.InDelta(t, 25-105.0*25/121, k.cov[4][0], 1e-12)
	require.InDelta(t, 25.25-25.0*25/121, k.cov[4][4], 1e-12)
}

func TestKalmanBoxRoundTrip(t *testing.T) {
	b := geom.Box{X: 10, Y: 20, W: 30, H: 60}
	k := newKalman(xyah(b))
	got := k.box()
	require.InDelta(t, b.X, got.X, 1e-12)
	require.InDelta(t, b.Y, got.Y, 1e-12)
	require.InDelta(t, b.W, got.W, 1e-12)
	require.InDelta(t, b.H, got.H, 1e-12)
}

// A steady target is followed: after many frames at constant velocity the
// filter's velocity converges on the true one.
func TestKalmanConvergesOnVelocity(t *testing.T) {
	k := newKalman([4]float64{0, 0, 0.5, 100})
	for f := 1; f <= 60; f++ {
		k.predict()
		require.True(t, k.update([4]float64{4 * float64(f), -2 * float64(f), 0.5, 100}))
	}
	require.InDelta(t, 4, k.mean[4], 0.05)
	require.InDelta(t, -2, k.mean[5], 0.05)
}

func TestKalmanUpdateAllocatesNothing(t *testing.T) {
	k := newKalman([4]float64{100, 200, 0.5, 80})
	allocs := testing.AllocsPerRun(100, func() {
		k.predict()
		k.update([4]float64{101, 200, 0.5, 80})
	})
	require.Zero(t, allocs)
}

func BenchmarkKalmanStep(b *testing.B) {
	k := newKalman([4]float64{100, 200, 0.5, 80})
	for i := 0; i < b.N; i++ {
		k.predict()
		k.update([4]float64{100 + float64(i%7), 200, 0.5, 80})
	}
}

// refKalman is the textbook filter with explicit F, H, Q, R matrices and
// Gauss-Jordan inversion, against which the structured code is checked.
type refKalman struct {
	x [8]float64
	p [8][8]float64
}

func matMul(a, b [][]float64) [][]float64 {
	out := make([][]float64, len(a))
	for i := range a {
		out[i] = make([]float64, len(b[0]))
		for j := range b[0] {
			for k := range b {
				out[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return out
}

func transpose(a [][]float64) [][]float64 {
	out := make([][]float64, len(a[0]))
	for j := range out {
		out[j] = make([]float64, len(a))
		for i := range a {
			out[j][i] = a[i][j]
		}
	}
	return out
}

func invert(a [][]float64) [][]float64 {
	n := len(a)
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, 2*n)
		copy(m[i], a[i])
		m[i][n+i] = 1
	}
	for c := 0; c < n; c++ {
		piv := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[piv][c]) {
				piv = r
			}
		}
		m[c], m[piv] = m[piv], m[c]
		for r := 0; r < n; r++ {
			if r != c {
				f := m[r][c] / m[c][c]
				for k := range m[r] {
					m[r][k] -= f * m[c][k]
				}
			}
		}
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, n)
		for j := range out[i] {
			out[i][j] = m[i][n+j] / m[i][i]
		}
	}
	return out
}

func (r *refKalman) pMat() [][]float64 {
	out := make([][]float64, 8)
	for i := range out {
		out[i] = append([]float64(nil), r.p[i][:]...)
	}
	return out
}

func (r *refKalman) setP(m [][]float64) {
	for i := range m {
		copy(r.p[i][:], m[i])
	}
}

func (r *refKalman) predict() {
	f := make([][]float64, 8)
	for i := range f {
		f[i] = make([]float64, 8)
		f[i][i] = 1
		if i < 4 {
			f[i][i+4] = 1
		}
	}
	h := r.x[3]
	std := []float64{h / 20, h / 20, 1e-2, h / 20, h / 160, h / 160, 1e-5, h / 160}
	var x [8]float64
	for i := range x {
		for k := 0; k < 8; k++ {
			x[i] += f[i][k] * r.x[k]
		}
	}
	r.x = x
	p := matMul(matMul(f, r.pMat()), transpose(f))
	for i := range p {
		p[i][i] += std[i] * std[i]
	}
	r.setP(p)
}

func (r *refKalman) update(z [4]float64) {
	hm := make([][]float64, 4)
	for i := range hm {
		hm[i] = make([]float64, 8)
		hm[i][i] = 1
	}
	h := r.x[3]
	std := []float64{h / 20, h / 20, 1e-1, h / 20}
	p := r.pMat()
	s := matMul(matMul(hm, p), transpose(hm))
	for i := range s {
		s[i][i] += std[i] * std[i]
	}
	k := matMul(matMul(p, transpose(hm)), invert(s)) // 8×4
	var y [4]float64
	for i := range y {
		y[i] = z[i] - r.x[i]
	}
	for j := 0; j < 8; j++ {
		for i := 0; i < 4; i++ {
			r.x[j] += k[j][i] * y[i]
		}
	}
	kh := matMul(k, hm)
	for i := range kh {
		for j := range kh[i] {
			kh[i][j] = -kh[i][j]
		}
		kh[i][i]++
	}
	r.setP(matMul(kh, p))
}

func TestPropertyKalmanMatchesTextbook(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		z := func(label string) [4]float64 {
			return [4]float64{
				rapid.Float64Range(0, 1000).Draw(t, label+"x"),
				rapid.Float64Range(0, 1000).Draw(t, label+"y"),
				rapid.Float64Range(0.2, 3).Draw(t, label+"a"),
				rapid.Float64Range(20, 300).Draw(t, label+"h"),
			}
		}
		first := z("first")
		k := newKalman(first)
		ref := refKalman{x: k.mean, p: k.cov}
		steps := rapid.IntRange(1, 20).Draw(t, "steps")
		for s := 0; s < steps; s++ {
			k.predict()
			ref.predict()
			if rapid.Bool().Draw(t, "observed") {
				m := z("m")
				if !k.update(m) {
					t.Fatal("update refused a finite measurement")
				}
				ref.update(m)
			}
			for i := 0; i < 8; i++ {
				scale := 1 + math.Abs(ref.x[i])
				if math.Abs(k.mean[i]-ref.x[i]) > 1e-9*scale {
					t.Fatalf("step %d mean[%d]: %v, textbook %v", s, i, k.mean[i], ref.x[i])
				}
				for j := 0; j < 8; j++ {
					scale := 1 + math.Abs(ref.p[i][j])
					if math.Abs(k.cov[i][j]-ref.p[i][j]) > 1e-7*scale {
						t.Fatalf("step %d cov[%d][%d]: %v, textbook %v", s, i, j, k.cov[i][j], ref.p[i][j])
					}
				}
			}
		}
	})
}

func TestInvertSPD4(t *testing.T) {
	s := [4][4]float64{{4, 1, 0.5, 0.2}, {1, 3, 0.1, 0}, {0.5, 0.1, 2, 0.3}, {0.2, 0, 0.3, 1}}
	inv, ok := invertSPD4(&s)
	require.True(t, ok)
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			var v float64
			for k := 0; k < 4; k++ {
				v += s[i][k] * inv[k][j]
			}
			want := 0.0
			if i == j {
				want = 1
			}
			require.InDelta(t, want, v, 1e-12)
		}
	}
	_, ok = invertSPD4(&[4][4]float64{{1, 2}, {2, 1}, {0, 0, 1}, {0, 0, 0, 1}})
	require.False(t, ok, "indefinite")
}
