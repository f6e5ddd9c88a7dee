package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/vigil-cctv/vigil/internal/onvif"
)

type camerasCmd struct {
	Discover camerasDiscoverCmd `cmd:"" help:"Find ONVIF cameras on the local network (WS-Discovery probe)."`
}

type camerasDiscoverCmd struct {
	Interface string        `help:"Network interface to probe from (default: all)."`
	Timeout   time.Duration `help:"How long to wait for answers." default:"3s"`
	At        string        `help:"Probe one address (host:port) by unicast instead of multicast."`
	JSON      bool          `name:"json" help:"Print JSON."`
}

func (c *camerasDiscoverCmd) Run(e *env) error {
	var devs []onvif.Device
	var err error
	if c.At != "" {
		devs, err = onvif.DiscoverAt(e.ctx, c.At, c.Timeout)
	} else {
		devs, err = onvif.Discover(e.ctx, c.Interface, c.Timeout)
	}
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	if c.JSON {
		return json.NewEncoder(e.stdout).Encode(devs)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tHARDWARE\tLOCATION\tDEVICE SERVICE")
	for _, d := range devs {
		addr := ""
		if len(d.XAddrs) > 0 {
			addr = d.XAddrs[0]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Name, d.Hardware, d.Location, addr)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d camera(s) answered in %s\n", len(devs), c.Timeout)
	return nil
}
