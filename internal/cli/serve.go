package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/detect/onnx"
	"github.com/vigil-cctv/vigil/internal/secrets"
	"github.com/vigil-cctv/vigil/internal/service"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/postgres"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

type serveCmd struct {
	Config   string `help:"Service configuration file." default:"vigil.yaml" type:"existingfile"`
	Listen   string `help:"Override the config's listen address (host:port)."`
	DemoUser bool   `help:"When no user exists, create the administrator \"demo\" with a generated password, printed once (also auth.demo_user in the config)."`
}

func (c *serveCmd) Run(e *env) error {
	cfg, err := config.Load(c.Config)
	if err != nil {
		return fmt.Errorf("%s is not valid:\n%w", c.Config, err)
	}
	if c.Listen != "" {
		cfg.Listen = c.Listen
		if err := cfg.Auth.CheckListen(cfg.Listen); err != nil {
			return fmt.Errorf("--listen: %w", err)
		}
	}
	if cfg.Cluster != nil {
		// A wrong NATS URL or credentials fail here, before anything opens.
		if err := service.CheckCluster(e.ctx, cfg.Cluster); err != nil {
			return err
		}
	}
	st, err := openStore(e.ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	accounts, err := accountService(st, cfg, e)
	if err != nil {
		return err
	}
	login, err := c.loginHint(e.ctx, cfg, accounts)
	if err != nil {
		return err
	}
	model, closeModel, err := serveModel(cfg)
	if err != nil {
		return err
	}
	defer closeModel()
	kr, err := secrets.Load(cfg.DataDir, os.Getenv) // openStore made sure it exists
	if err != nil {
		return err
	}
	deps := service.Deps{Store: st, Model: model, Log: e.log, Auth: accounts, Secrets: kr}
	if model != nil && cfg.Detector.Recorded == "" {
		if deps.RegionModel, err = openRegionModel(cfg.Detector); err != nil {
			return err
		}
		defer closeRegionModel(deps.RegionModel)
		lanes, closeLanes, err := openMoreLanes(cfg.Detector)
		if err != nil {
			return err
		}
		defer closeLanes()
		deps.MoreLanes = lanes
		emb, err := openEmbedder(cfg.Detector)
		if err != nil {
			return err
		}
		if emb != nil {
			defer emb.Close()
			deps.Embedder = emb
		}
	}
	svc, err := service.New(cfg, deps)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	fmt.Fprintf(e.stdout, "Vigil is serving %d camera(s): console and API at http://%s/\n", len(cfg.Cameras), ln.Addr())
	fmt.Fprintln(e.stdout, login)
	return svc.Run(e.ctx, ln)
}

// demoUser is the administrator --demo-user creates.
const demoUser = "demo"

// loginHint says how to log in, creating the demo user first when asked
// and no user exists. Its password is printed here once and stored only
// hashed: a later start cannot show it again, and says how to reset it.
func (c *serveCmd) loginHint(ctx context.Context, cfg *config.Config, accounts *auth.Service) (string, error) {
	if cfg.Auth.Disabled {
		return "Authentication is disabled (auth.disabled): every loopback client is the administrator \"local\".", nil
	}
	if c.DemoUser || cfg.Auth.DemoUser {
		pw, created, err := accounts.EnsureDemoUser(ctx, demoUser)
		if err != nil {
			return "", fmt.Errorf("demo user: %w", err)
		}
		if created {
			return fmt.Sprintf("Log in as %q with password %s (shown this once; change it in the console or with: vigil user passwd %s --config %s)",
				demoUser, pw, demoUser, c.Config), nil
		}
	}
	has, err := accounts.HasUsers(ctx)
	if err != nil {
		return "", err
	}
	if !has {
		return fmt.Sprintf("No user exists yet: create the first administrator with: vigil user add NAME --role admin --config %s", c.Config), nil
	}
	if _, err := accounts.GetUser(ctx, demoUser); err == nil && (c.DemoUser || cfg.Auth.DemoUser) {
		return fmt.Sprintf("Log in as %q with the password printed when it was created (reset it with: vigil user passwd %s --config %s)",
			demoUser, demoUser, c.Config), nil
	}
	return fmt.Sprintf("Log in with your Vigil account (add users with: vigil user add NAME --role ROLE --config %s)", c.Config), nil
}

// openStore opens the configured store with camera URLs encrypted at
// rest under the secret key (generated in the data folder on first run),
// and encrypts any URL stored before encryption was on.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	// The data folder holds the key for either driver, and SQLite's file.
	if _, err := config.EnsureDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	kr, err := secrets.Load(cfg.DataDir, os.Getenv)
	if err != nil {
		return nil, err
	}
	var st sealedStore
	if cfg.Store.Driver == "postgres" {
		st, err = postgres.Open(ctx, cfg.Store.DSN)
	} else {
		path := cfg.Store.DSN
		if path == "" {
			path = filepath.Join(cfg.DataDir, "vigil.db")
		}
		st, err = sqlite.Open(ctx, path)
	}
	if err != nil {
		return nil, err
	}
	st.UseSecrets(kr)
	if _, err := st.ResealCameras(ctx, kr); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// detectorFlags are the model flags the config's detector section sets.
func detectorFlags(d config.Detector) modelFlags {
	return modelFlags{Model: d.Model, ORTLib: d.ORTLib, Threads: d.Threads, Conf: d.Conf, NMSIoU: d.NMSIoU,
		ModelSize: d.ModelSize, InputSize: d.InputSize}
}

// openServeModel loads the shared detector. All cameras share one input
// size; "auto" is 640×480, right for the 4:3 cameras most CCTV still is
// (others are letterboxed into it).
func openServeModel(d config.Detector) (*onnx.Detector, error) {
	m := detectorFlags(d)
	if m.InputSize == "auto" {
		m.InputSize = "640x480"
	}
	iw, ih, err := m.inputSize(4, 3)
	if err != nil {
		return nil, fmt.Errorf("detector.input_size: %w", err)
	}
	return onnx.New(m.onnxConfig(iw, ih))
}
