package track

import "slices"

// Replay hands out recorded tracks (a track file, ground truth, stored
// history) frame by frame, and reports their ends the way Tracker does:
// once per id, BufferSeconds after its last appearance in the whole
// recording. A recorded id that vanishes for a while and comes back (an
// occlusion in ground truth) is one track, as the recording says, so
// consumers never see a track end and then reappear under the same id.
type Replay struct {
	byFrame map[int][]Track
	last    map[int]int // id → last frame it appears in
	buffer  int         // frames
	open    map[int]bool
	ended   []int
}

// NewReplay replays byFrame (keyed by frame number, any origin); cfg
// gives the frame rate and buffer that decide when an id has ended.
func NewReplay(byFrame map[int][]Track, cfg Config) *Replay {
	r := &Replay{byFrame: map[int][]Track{}, last: map[int]int{}, buffer: cfg.bufferFrames(), open: map[int]bool{}}
	for f, ts := range byFrame {
		r.Add(f, ts)
	}
	return r
}

// Add records more tracks at frame, ahead of the frames already replayed
// (a looped recording is added one loop at a time).
func (r *Replay) Add(frame int, tracks []Track) {
	r.byFrame[frame] = append(r.byFrame[frame], tracks...)
	for _, t := range tracks {
		if last, ok := r.last[t.ID]; !ok || frame > last {
			r.last[t.ID] = frame
		}
	}
}

// Update returns the tracks recorded at frame (frames must increase) and
// notes the ids whose last appearance is more than the buffer behind. A
// replayed frame is forgotten.
func (r *Replay) Update(frame int) []Track {
	r.ended = r.ended[:0]
	out := r.byFrame[frame]
	delete(r.byFrame, frame)
	for _, t := range out {
		r.open[t.ID] = true
	}
	for id := range r.open {
		if frame-r.last[id] > r.buffer {
			delete(r.open, id)
			delete(r.last, id)
			r.ended = append(r.ended, id)
		}
	}
	slices.Sort(r.ended)
	return out
}

// Ended returns the ids that the latest Update ended, sorted.
func (r *Replay) Ended() []int { return r.ended }

// Close ends every open id and returns them, sorted: the end of a
// replayed stream.
func (r *Replay) Close() []int {
	ids := make([]int, 0, len(r.open))
	for id := range r.open {
		ids = append(ids, id)
		delete(r.last, id)
	}
	clear(r.open)
	slices.Sort(ids)
	return ids
}
