package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/motfile"
	"github.com/vigil-cctv/vigil/internal/reid"
	"github.com/vigil-cctv/vigil/internal/reideval"
)

// reidFlags locate the OSNet ReID model: flag, environment, the cache,
// then ../shared/models beside the checkout.
type reidFlags struct {
	ReIDModel string `name:"reid-model" help:"OSNet ReID ONNX model (env VIGIL_REID_MODEL; default <cache>/models/osnet_x0_25_msmt17.dynbatch.onnx, else ../shared/models/osnet_x0_25_msmt17.dynbatch.onnx)." type:"path"`
}

func (r reidFlags) modelPath() string {
	cached := filepath.Join(cacheDir(), "models", reid.ModelFile)
	if _, err := os.Stat(cached); err != nil && r.ReIDModel == "" && os.Getenv("VIGIL_REID_MODEL") == "" {
		return filepath.Join("..", "shared", "models", reid.ModelFile)
	}
	return firstSet(r.ReIDModel, os.Getenv("VIGIL_REID_MODEL"), cached)
}

type evalReIDCmd struct {
	reidFlags
	GT        string `name:"gt" required:"" help:"Ground-truth MOT file of the video (gt.txt)." type:"existingfile"`
	Input     string `required:"" help:"The sequence's video (PETS09-S2L1: vtest.avi)." type:"path"`
	ORTLib    string `name:"ort-lib" help:"ONNX Runtime shared library (env VIGIL_ORT_LIB; default <cache>/lib/libonnxruntime.so.1)." type:"path"`
	Threads   int    `help:"Inference threads." default:"2"`
	Segment   int    `help:"Segment length in frames: each identity's sightings are cut into fixed-length temporal segments." default:"50"`
	MinCrops  int    `name:"min-crops" help:"Drop segments with fewer good crops." default:"3"`
	Stride    int    `help:"Embed every Nth frame." default:"2"`
	Neighbour bool   `name:"exclude-neighbours" help:"Also leave the query's adjacent segments of the same identity out of its gallery (harder)."`
	JSON      bool   `name:"json" help:"Print the result as JSON."`
	Save      string `name:"save-embeddings" help:"Also write every good crop's embedding as JSON lines (id, frame, emb): the real crops vigil bench-search --embeddings draws from." type:"path"`
}

// reidReport is the eval reid result with the protocol that produced it.
type reidReport struct {
	Protocol string          `json:"protocol"`
	Crops    int             `json:"crops"`
	Result   reideval.Result `json:"result"`
	Strict   reideval.Result `json:"strict"` // adjacent segments left out
}

// Run embeds every good ground-truth crop and scores segment retrieval.
func (c *evalReIDCmd) Run(e *env) error {
	gt, err := motfile.ReadFile(c.GT)
	if err != nil {
		return err
	}
	emb, err := reid.New(reid.Config{Model: c.modelPath(), Library: (modelFlags{ORTLib: c.ORTLib}).libPath(), Threads: c.Threads})
	if err != nil {
		return err
	}
	defer emb.Close()
	samples, err := c.embed(e, emb, byFrame(gt))
	if err != nil {
		return err
	}
	if c.Save != "" {
		if err := saveSamples(c.Save, samples); err != nil {
			return err
		}
	}
	opt := reideval.Options{SegmentFrames: c.Segment, MinCrops: c.MinCrops}
	rep := reidReport{Protocol: fmt.Sprintf("segments of %d frames, every %d frame(s) embedded, ≥%d good crops each; query one segment, gallery all others", c.Segment, c.Stride, c.MinCrops), Crops: len(samples)}
	rep.Result = reideval.Evaluate(samples, opt)
	opt.ExcludeNeighbours = true
	rep.Strict = reideval.Evaluate(samples, opt)
	if c.JSON {
		return printJSON(e.stdout, rep)
	}
	fmt.Fprintf(e.stdout, "%s; %d crops\n", rep.Protocol, rep.Crops)
	if err := rep.Result.WriteTable(e.stdout); err != nil {
		return err
	}
	fmt.Fprint(e.stdout, "without adjacent segments: ")
	return rep.Strict.WriteTable(e.stdout)
}

// savedCrop is one line of --save-embeddings.
type savedCrop struct {
	ID    int       `json:"id"`
	Frame int       `json:"frame"`
	Emb   []float32 `json:"emb"`
}

func saveSamples(path string, samples []reideval.Sample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, s := range samples {
		if err := enc.Encode(savedCrop{ID: s.ID, Frame: s.Frame, Emb: s.Emb}); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// byFrame groups evaluated ground-truth rows by 0-based frame index.
func byFrame(gt []motfile.Row) map[int][]motfile.Row {
	m := map[int][]motfile.Row{}
	for _, r := range gt {
		if r.Conf != 0 && r.Frame >= 1 {
			m[r.Frame-1] = append(m[r.Frame-1], r)
		}
	}
	return m
}

// embed decodes the video and embeds the good crops at the gt boxes.
func (c *evalReIDCmd) embed(e *env, emb *reid.Embedder, gt map[int][]motfile.Row) ([]reideval.Sample, error) {
	src, err := decode.Open(e.ctx, c.Input, decode.Options{})
	if err != nil {
		return nil, err
	}
	ch, err := src.Start(e.ctx)
	if err != nil {
		return nil, err
	}
	var out []reideval.Sample
	var embedErr error
	for f := range ch {
		rows := gt[f.Index]
		if embedErr != nil || len(rows) == 0 || f.Index%max(c.Stride, 1) != 0 {
			continue
		}
		var s []reideval.Sample
		s, embedErr = embedRows(emb, f, rows)
		out = append(out, s...)
	}
	if err := src.Wait(); err != nil {
		return nil, err
	}
	return out, embedErr
}

// embedRows embeds the rows of one frame whose crops are good.
func embedRows(emb *reid.Embedder, f *decode.Frame, rows []motfile.Row) ([]reideval.Sample, error) {
	all := make([]geom.Box, len(rows))
	for i, r := range rows {
		all[i] = r.Box
	}
	var boxes []geom.Box
	var keep []motfile.Row
	for _, r := range rows {
		if reid.Quality(r.Box, f.Width, f.Height, all) > 0 {
			boxes = append(boxes, r.Box)
			keep = append(keep, r)
		}
	}
	vecs, err := emb.Embed(f, boxes)
	if err != nil {
		return nil, err
	}
	out := make([]reideval.Sample, len(keep))
	for i, r := range keep {
		out[i] = reideval.Sample{ID: r.ID, Frame: f.Index, Emb: vecs[i]}
	}
	return out, nil
}
