package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/secrets"
	"github.com/vigil-cctv/vigil/internal/store"
)

type secretsCmd struct {
	Rotate secretsRotateCmd `cmd:"" help:"Encrypt every stored camera credential with a new key and retire the old one (stop the service first)."`
}

type secretsRotateCmd struct {
	Config string `help:"The service's config file (vigil.yaml)." required:"" type:"existingfile"`
}

// sealedStore is a store whose camera URLs are encrypted at rest (SQLite
// and PostgreSQL).
type sealedStore interface {
	store.Store
	UseSecrets(secrets.Sealer)
	ResealCameras(ctx context.Context, with secrets.Sealer) (int, error)
}

func (c *secretsRotateCmd) Run(e *env) error {
	cfg, err := config.Load(c.Config)
	if err != nil {
		return err
	}
	kr, err := secrets.Load(cfg.DataDir, os.Getenv)
	if err != nil {
		return err
	}
	st, err := openStore(e.ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	rs, ok := st.(sealedStore)
	if !ok {
		return errors.New("this store cannot reseal camera credentials")
	}
	next, n, note, err := secrets.Rotate(e.ctx, kr, os.Getenv, func(ctx context.Context, k *secrets.Keyring) (int, error) {
		return rs.ResealCameras(ctx, k)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "resealed %d camera URL(s) with key %s (%s)\n", n, next.Keys()[0].ID, next.Source)
	if note != "" {
		fmt.Fprintln(e.stdout, note)
	}
	return nil
}
