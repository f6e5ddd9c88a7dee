package anomaly

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"
)

// dataDir is ../shared/data/ucsd-ped2 relative to the repository root.
const dataDir = "../../../shared/data/ucsd-ped2"

func needData(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(dataDir + "/frame_gt.csv"); err != nil {
		t.Skipf("UCSD Ped2 not found at %s (relative to internal/anomaly); skipping real-data test", dataDir)
	}
}

// TestEvalPed2Full runs the whole protocol (16 train clips, 12 test clips);
// about 20 s on 2 cores.
func TestEvalPed2Full(t *testing.T) {
	needData(t)
	if testing.Short() {
		t.Skip("full Ped2 run skipped in -short mode")
	}
	rep, err := EvalPed2(context.Background(), dataDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	rep.WriteTable(&b)
	t.Log("\n" + b.String())
	if rep.Frames != 2010 || rep.TrainFrames != 2550 {
		t.Errorf("frames test=%d train=%d, want 2010/2550", rep.Frames, rep.TrainFrames)
	}
	// Measured 0.8748 (raw pooled) and 0.836 (per-clip min-max); floor leaves a small margin.
	if rep.AUC < 0.86 {
		t.Errorf("pooled AUC %.4f below floor 0.86", rep.AUC)
	}
	if rep.AUCClipNorm < 0.81 {
		t.Errorf("clip-normalised AUC %.4f below floor 0.81", rep.AUCClipNorm)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("JSON: %v", err)
	}
}

func TestEvalPed2Deterministic(t *testing.T) {
	needData(t)
	opt := Options{TrainClips: 3, TestClips: 2}
	a, err := EvalPed2(context.Background(), dataDir, opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.Workers = 1
	b, err := EvalPed2(context.Background(), dataDir, opt)
	if err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(a.AUC) || a.AUC != b.AUC || a.AUCClipNorm != b.AUCClipNorm {
		t.Fatalf("non-deterministic AUC: %v/%v vs %v/%v", a.AUC, a.AUCClipNorm, b.AUC, b.AUCClipNorm)
	}
	for i := range a.PerClip {
		if a.PerClip[i].AUC != b.PerClip[i].AUC {
			t.Fatalf("clip %s: %v vs %v", a.PerClip[i].Clip, a.PerClip[i].AUC, b.PerClip[i].AUC)
		}
	}
}

func TestReadGTRejectsBadHeader(t *testing.T) {
	if _, err := readGT(bytes.NewBufferString("a,b,c,d\n1,2,3,4\n")); err == nil {
		t.Error("expected error for bad header")
	}
}
