package service

import (
	"context"
	"sync"
	"time"

	"github.com/vigil-cctv/vigil/internal/media/segring"
)

// segRingBytes bounds a camera's ring of compressed video.
const segRingBytes = 32 << 20

// keyInterval is the longest gap between key pictures the ring is sized
// for: a clip starts on the key picture at or before its pre-roll.
const keyInterval = 4 * time.Second

// cutSlack is how long, in wall time past the post-roll, a cut waits for
// the camera's video before writing what it has.
const cutSlack = 10 * time.Second

// clipCuts are the clips being cut from a camera's ring; stop cancels
// their waits (each then writes what it has) and waits for them.
type clipCuts struct {
	mu     sync.Mutex
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// useSegRing makes the camera keep its compressed video and cut alert
// clips from it, with no decoding or encoding (RTSP cameras).
func (p *processor) useSegRing() {
	p.seg = segring.New(p.sinks.PreRoll+p.sinks.PostRoll+keyInterval, segRingBytes)
	p.clips, p.ring = nil, nil
	p.cuts.ctx, p.cuts.cancel = context.WithCancel(context.Background())
}

// clip writes the alert clip at path around pts: cut from the ring of
// compressed video, or encoded by the clipper from decoded frames.
func (p *processor) clip(ctx context.Context, path string, pts time.Duration) {
	switch {
	case p.seg != nil:
		p.cut(path, pts)
	case p.clips != nil:
		p.clips.StartAt(context.WithoutCancel(ctx), p.id, path, pts, p.ring)
	}
}

// cut cuts a clip from the ring once the camera has delivered its
// post-roll, in a goroutine the camera's run waits for (stopCuts).
func (p *processor) cut(path string, pts time.Duration) {
	c := &p.cuts
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return // the camera is stopping
	}
	ctx, cancel := context.WithTimeout(c.ctx, p.sinks.PostRoll+cutSlack)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer cancel()
		clip, err := p.seg.Cut(ctx, pts-p.sinks.PreRoll, pts+p.sinks.PostRoll, path)
		if err != nil {
			p.sinks.MediaFailed("clip")
			p.sinks.Log.Warn("alert clip not cut", "camera", p.id, "err", err)
			return
		}
		p.sinks.Log.Debug("alert clip cut", "camera", p.id, "path", clip.Path, "pictures", clip.Pictures,
			"start", clip.Start, "end", clip.End)
	}()
}

// stopCuts ends the waits of the clips in progress (each writes the video
// it has) and waits for them.
func (p *processor) stopCuts() {
	if p.seg == nil {
		return
	}
	p.cuts.mu.Lock()
	p.cuts.cancel()
	p.cuts.mu.Unlock()
	p.cuts.wg.Wait()
}
