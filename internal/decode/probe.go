package decode

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Info describes a source's video stream.
type Info struct {
	Width, Height int
	// FPS is the nominal frame rate (0 when the container does not say).
	FPS float64
	// Frames is the expected number of frames, 0 when unknown (live).
	Frames int
	// Duration is 0 when unknown.
	Duration time.Duration
	Codec    string
}

type probeOutput struct {
	Streams []struct {
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		AvgFrameRate string `json:"avg_frame_rate"`
		RFrameRate   string `json:"r_frame_rate"`
		NbFrames     string `json:"nb_frames"`
		Duration     string `json:"duration"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

// probe asks ffprobe about the first video stream of a file or stream.
func probe(ctx context.Context, bin string, in Input, opt Options) (Info, error) {
	if in.Kind == KindImages {
		return probeImages(ctx, bin, in, opt)
	}
	args := []string{"-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,width,height,avg_frame_rate,r_frame_rate,nb_frames,duration:format=duration",
		"-of", "json"}
	args = append(args, inputArgs(in)...)
	out, err := runProbe(ctx, bin, args, in, opt)
	if err != nil {
		return Info{}, err
	}
	var po probeOutput
	if err := json.Unmarshal(out, &po); err != nil {
		return Info{}, fmt.Errorf("%s: cannot read ffprobe output: %v", in, err)
	}
	if len(po.Streams) == 0 || po.Streams[0].Width <= 0 || po.Streams[0].Height <= 0 {
		return Info{}, fmt.Errorf("%s: not a video (no video stream found)", in)
	}
	st := po.Streams[0]
	info := Info{Width: st.Width, Height: st.Height, Codec: st.CodecName}
	info.FPS = parseRate(st.AvgFrameRate)
	if info.FPS == 0 {
		info.FPS = parseRate(st.RFrameRate)
	}
	secs, _ := strconv.ParseFloat(firstNonEmpty(st.Duration, po.Format.Duration), 64)
	info.Duration = time.Duration(secs * float64(time.Second))
	info.Frames, _ = strconv.Atoi(st.NbFrames)
	if info.Frames == 0 && secs > 0 && info.FPS > 0 {
		info.Frames = int(secs*info.FPS + 0.5)
	}
	if in.Kind == KindRTSP {
		info.Frames, info.Duration = 0, 0
	}
	return info, nil
}

// probeImages reads the first image's size; every frame of a sequence is
// assumed to share it (ffmpeg would fail on a size change anyway).
func probeImages(ctx context.Context, bin string, in Input, opt Options) (Info, error) {
	first := Input{Kind: KindFile, Location: in.Images[0]}
	info, err := probe(ctx, bin, first, opt)
	if err != nil {
		return Info{}, err
	}
	info.FPS = opt.imageFPS()
	info.Frames = len(in.Images)
	info.Duration = time.Duration(float64(len(in.Images)) / info.FPS * float64(time.Second))
	return info, nil
}

func runProbe(ctx context.Context, bin string, args []string, in Input, opt Options) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, opt.probeTimeout())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err == nil {
		return out, nil
	}
	if ctx.Err() == context.DeadlineExceeded {
		return nil, fmt.Errorf("%s: timed out after %s waiting for the stream", in, opt.probeTimeout())
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() > 0 {
		return nil, fmt.Errorf("%s: %s", in, cleanFFmpegError(stderr.String(), in))
	}
	return nil, fmt.Errorf("%s: running %s: %v", in, bin, err)
}

func parseRate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0
	}
	if !ok {
		return n
	}
	d, err := strconv.ParseFloat(den, 64)
	if err != nil || d == 0 {
		return 0
	}
	return n / d
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" && s != "N/A" {
			return s
		}
	}
	return ""
}

// cleanFFmpegError turns ffmpeg's stderr into one line: the last meaningful
// message, with the input's own path/URL prefix and any credentials removed.
func cleanFFmpegError(stderr string, in Input) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	msg := ""
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l != "" && !strings.HasPrefix(l, "Conversion failed") && !strings.HasPrefix(l, "Exiting normally") {
			msg = l
			break
		}
	}
	msg = strings.ReplaceAll(msg, in.Location, in.String())
	msg = strings.TrimPrefix(msg, in.String()+": ")
	if msg == "" {
		return "ffmpeg failed without a message"
	}
	return redactUserinfo(msg, in)
}

// redactUserinfo removes a stream password wherever ffmpeg echoed it.
func redactUserinfo(s string, in Input) string {
	if in.Kind != KindRTSP {
		return s
	}
	if i := strings.Index(in.Location, "://"); i >= 0 {
		rest := in.Location[i+3:]
		if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok && pw != "" {
				s = strings.ReplaceAll(s, pw, "xxxxx")
			}
		}
	}
	return s
}
