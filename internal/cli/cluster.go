package cli

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/config"
)

type clusterCmd struct {
	Status clusterStatusCmd `cmd:"" help:"Nodes, roles, capacity, cameras per node, consumer lag and dead letters."`
}

type clusterStatusCmd struct {
	Config string `help:"Service configuration file (its cluster section says how to reach NATS)." default:"vigil.yaml" type:"existingfile"`
	JSON   bool   `help:"Print the status as JSON."`
}

func (c *clusterStatusCmd) Run(e *env) error {
	cfg, err := config.Load(c.Config)
	if err != nil {
		return fmt.Errorf("%s is not valid:\n%w", c.Config, err)
	}
	if cfg.Cluster == nil {
		return errors.New(c.Config + " has no cluster section: this is a single-node installation")
	}
	nc := cluster.FromConfig(cfg.Cluster, e.log)
	conn, err := cluster.Connect(e.ctx, nc.NATS)
	if err != nil {
		return err
	}
	defer conn.Close()
	cl, err := cluster.Open(e.ctx, conn, nc.Options)
	if err != nil {
		return err
	}
	st, err := cl.Status(e.ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, st)
	}
	return printClusterStatus(e, st)
}

func printClusterStatus(e *env, st cluster.Status) error {
	coord := st.Coordinator
	if coord == "" {
		coord = "none (election pending)"
	}
	fmt.Fprintf(e.stdout, "coordinator: %s\n\n", coord)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLES\tCAPACITY FPS\tASSIGNED\tASSIGNED FPS\tRUNNING\tADDR\tLAST BEAT")
	for _, n := range st.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%d\t%.0f\t%d\t%s\t%s\n", n.Node, strings.Join(n.Roles, ","), n.CapacityFPS,
			n.Assigned, n.AssignedFPS, n.Cameras, dash(n.Addr), n.Beat.Format("15:04:05"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	live := map[string]bool{}
	for _, n := range st.Nodes {
		live[n.Node] = true
	}
	var unplaced []string
	for cam, node := range st.Cameras {
		if !live[node] {
			unplaced = append(unplaced, cam)
		}
	}
	slices.Sort(unplaced)
	fmt.Fprintf(e.stdout, "\ncameras: %d configured, %d not on a live node%s\n\n", len(st.Cameras), len(unplaced), list(unplaced))
	tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tCONSUMER\tMESSAGES\tPENDING\tACK PENDING\tREDELIVERED")
	for _, name := range slices.Sorted(maps.Keys(st.Consumers)) {
		l := st.Consumers[name]
		switch {
		case l.Error != "":
			fmt.Fprintf(tw, "%s\t%s\t%d\t?\t?\t? (%s)\n", name, cluster.ConsumerAPI, l.Messages, l.Error)
		case l.Missing:
			fmt.Fprintf(tw, "%s\t(none yet)\t%d\t%d\t-\t-\n", name, l.Messages, l.Pending)
		default:
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", name, cluster.ConsumerAPI, l.Messages, l.Pending, l.AckPending, l.Redelivered)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\ndead letters: %d\n", st.DeadLetters)
	for _, subj := range slices.Sorted(maps.Keys(st.DeadBySubject)) {
		fmt.Fprintf(e.stdout, "  %s: %d\n", subj, st.DeadBySubject[subj])
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func list(s []string) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > 10 {
		s = append(s[:10:10], "…")
	}
	return " (" + strings.Join(s, ", ") + ")"
}
