package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/service"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/postgres"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// searchCmd is `vigil search`: the suspect search over a store.
type searchCmd struct {
	Text     []string  `arg:"" optional:"" help:"What to look for, e.g. \"red top black trousers backpack heading north between 14:00 and 14:30\"."`
	Config   string    `help:"Service configuration file whose store to search." default:"vigil.yaml"`
	SQLite   string    `name:"sqlite" help:"Search this SQLite database instead of the config's store."`
	Postgres string    `name:"postgres" help:"Search this PostgreSQL database (DSN) instead of the config's store."`
	Camera   []string  `help:"Cameras to search (default: all)."`
	Class    []string  `help:"Classes: person, car, bus, truck, motorcycle, bicycle, vehicle."`
	Upper    []string  `help:"Upper-body colours."`
	Lower    []string  `help:"Lower-body colours."`
	Colour   []string  `help:"Vehicle colours."`
	Carried  []string  `help:"Carried objects: backpack, handbag, suitcase, umbrella."`
	Zone     []string  `help:"Zones the track entered."`
	Heading  string    `help:"Direction of travel (north, north-east, ...)."`
	Since    time.Time `help:"Seen at or after this time (RFC 3339)."`
	Until    time.Time `help:"Seen before this time (RFC 3339)."`
	MinMatch float64   `name:"min-match" help:"Fraction of the asked attributes a track must match (default all)."`
	Like     int64     `help:"Rank by similarity to this stored track id (more like this)."`
	Limit    int       `help:"Hits to show." default:"20"`
	JSON     bool      `name:"json" help:"Print the hits as JSON."`
}

func (c *searchCmd) Run(e *env) error {
	q := search.Query{Cameras: c.Camera, Classes: c.Class, Upper: c.Upper, Lower: c.Lower, Colours: c.Colour,
		Carried: c.Carried, Zones: c.Zone, Heading: c.Heading, Since: c.Since, Until: c.Until, MinMatch: c.MinMatch,
		LikeID: c.Like, Limit: c.Limit}
	if text := strings.Join(c.Text, " "); text != "" {
		p, err := search.Parse(text, time.Now())
		if err != nil {
			return err
		}
		if len(p.Unknown) > 0 {
			fmt.Fprintf(e.stderr, "not understood: %s\n", strings.Join(p.Unknown, ", "))
		}
		q = q.Merge(p.Query)
	}
	if err := q.Validate(); err != nil {
		return err
	}
	st, err := c.open(e.ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ss, ok := st.(store.SearchStore)
	if !ok {
		return errors.New("this store keeps no track appearance")
	}
	ix, err := service.LoadIndex(e.ctx, st)
	if err != nil {
		return err
	}
	res, err := ix.Search(q)
	if err != nil {
		return err
	}
	return printHits(e, ss, res, c.JSON)
}

// open opens the store to search: a given database, else the config's.
func (c *searchCmd) open(ctx context.Context) (store.Store, error) {
	switch {
	case c.SQLite != "":
		return sqlite.Open(ctx, c.SQLite)
	case c.Postgres != "":
		return postgres.Open(ctx, c.Postgres)
	}
	cfg, err := config.Load(c.Config)
	if err != nil {
		return nil, fmt.Errorf("%s is not valid:\n%w", c.Config, err)
	}
	return openStore(ctx, cfg)
}

func printHits(e *env, ss store.SearchStore, res search.Result, asJSON bool) error {
	ids := make([]int64, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	tracks, err := ss.GetTracks(e.ctx, ids)
	if err != nil {
		return err
	}
	byID := map[int64]store.TrackSummary{}
	for _, t := range tracks {
		byID[t.ID] = t
	}
	if asJSON {
		type hit struct {
			search.Hit
			Appearance *search.Appearance `json:"appearance,omitempty"`
		}
		out := make([]hit, len(res.Hits))
		for i, h := range res.Hits {
			out[i] = hit{Hit: h, Appearance: byID[h.ID].Appearance}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"hits": out, "filtered": res.Filtered, "ranked": res.Ranked})
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCAMERA\tCLASS\tSTART\tSECONDS\tSIMILARITY\tMATCHED\tAPPEARANCE")
	for _, h := range res.Hits {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.1f\t%.3f\t%s\t%s\n", h.ID, h.Camera, h.Class, h.Start.Format(time.RFC3339),
			h.End.Sub(h.Start).Seconds(), h.Similarity, strings.Join(h.Matched, " "), describe(byID[h.ID].Appearance))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d of %d matching tracks shown\n", len(res.Hits), res.Filtered)
	return nil
}

// describe is an appearance in a few words.
func describe(a *search.Appearance) string {
	if a == nil {
		return ""
	}
	var parts []string
	add := func(label string, v []string) {
		if len(v) > 0 {
			parts = append(parts, label+" "+strings.Join(v, "+"))
		}
	}
	add("top", a.Upper)
	add("bottom", a.Lower)
	add("colour", a.Colours)
	add("with", a.Carried)
	if a.Heading != "" {
		parts = append(parts, "heading "+a.Heading)
	}
	if a.HeightM > 0 {
		parts = append(parts, fmt.Sprintf("%.2f m", a.HeightM))
	}
	return strings.Join(parts, ", ")
}
