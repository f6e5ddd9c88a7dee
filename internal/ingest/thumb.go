package ingest

import "math"

// Thumb is the motion gate's grey thumbnail of one frame (one cell per
// thumbnail pixel), kept so that a later frame can be compared with it:
// the detection plan compares each frame with the one its last
// whole-frame pass read (package detplan, State.Unchanged).
type Thumb struct {
	W, H, FrameW, FrameH int
	Cells                []uint8
	cellDiff             int
}

// Thumb is a copy of the latest checked frame's thumbnail; empty before
// the first Check.
func (g *MotionGate) Thumb() Thumb {
	if !g.havePrev {
		return Thumb{}
	}
	// After Check, prev holds the frame just checked.
	return Thumb{W: g.opt.Width, H: g.opt.Height, FrameW: g.w, FrameH: g.h,
		Cells: append([]uint8(nil), g.prev...), cellDiff: g.opt.CellDiff}
}

// Same reports whether t shows what ref showed: frames of one size whose
// exposure differs by less than the step that makes a view new
// (globalOffset) and in which, once that difference is out, no cell moved
// by more than the gate's CellDiff. Unlike the gate's frame-to-frame test,
// a single cell counts: what changes slowly (a figure creeping in over
// seconds) adds up between the two frames, while compression noise and
// sensor noise stay below CellDiff in a 16-sample cell mean. Either thumb
// empty: not the same.
func (t Thumb) Same(ref Thumb) bool {
	if len(t.Cells) == 0 || len(t.Cells) != len(ref.Cells) || t.W != ref.W || t.FrameW != ref.FrameW || t.FrameH != ref.FrameH {
		return false
	}
	var hist [511]int
	for i, c := range t.Cells {
		hist[int(c)-int(ref.Cells[i])+255]++
	}
	offset := median(hist[:], len(t.Cells)) - 255
	if math.Abs(float64(offset)) >= globalOffset {
		return false
	}
	for i, c := range t.Cells {
		if abs(int(c)-int(ref.Cells[i])-offset) > t.cellDiff {
			return false
		}
	}
	return true
}
