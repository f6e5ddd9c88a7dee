package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/store"
)

// stdin is where passwords are read from: the terminal without echo, or
// the first line of a pipe. Never a flag, which would leave the password
// in the shell's history and the process list.
var stdin io.Reader = os.Stdin

// hashParams are the password hashing costs (tests lower them).
var hashParams = auth.DefaultParams

type userCmd struct {
	Add     userAddCmd     `cmd:"" help:"Create a user; the password is read from the terminal (or the first line of stdin)."`
	Passwd  userPasswdCmd  `cmd:"" help:"Set a user's password (read from the terminal or stdin); ends their sessions."`
	Disable userDisableCmd `cmd:"" help:"Disable a user: no login, sessions and tokens stop working."`
	Enable  userEnableCmd  `cmd:"" help:"Enable a disabled user again."`
	List    userListCmd    `cmd:"" help:"List users with their roles and camera groups."`
}

type tokenCmd struct {
	Create tokenCreateCmd `cmd:"" help:"Issue an API token for a machine client (printed once; stored only hashed)."`
	Revoke tokenRevokeCmd `cmd:"" help:"Revoke an API token by id."`
	List   tokenListCmd   `cmd:"" help:"List API tokens (never their secrets)."`
}

// accountFlags open the store the service uses.
type accountFlags struct {
	Config string `help:"Service configuration file (names the store)." default:"vigil.yaml" type:"existingfile"`
}

// accounts opens the account service over the configured store.
func (f accountFlags) accounts(ctx context.Context) (*auth.Service, func(), error) {
	cfg, err := config.Load(f.Config)
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not valid:\n%w", f.Config, err)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	svc, err := accountService(st, cfg, nil)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return svc, func() { st.Close() }, nil
}

// with runs fn with the account service and closes the store after.
func (f accountFlags) with(e *env, fn func(*auth.Service) error) error {
	svc, done, err := f.accounts(e.ctx)
	if err != nil {
		return err
	}
	defer done()
	return fn(svc)
}

// accountService is the auth service over the store, with the config's
// session timeouts.
func accountService(st store.Store, cfg *config.Config, e *env) (*auth.Service, error) {
	as, ok := st.(auth.Store)
	if !ok {
		return nil, fmt.Errorf("store %T keeps no accounts", st)
	}
	opts := auth.Options{Params: hashParams, SessionIdle: time.Duration(cfg.Auth.SessionIdle),
		SessionMax: time.Duration(cfg.Auth.SessionMax)}
	if e != nil {
		opts.Log = e.log
	}
	return auth.New(as, opts), nil
}

// cliActor is who the audit log records for a command-line change: the
// operating-system user on the server.
func cliActor() auth.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return auth.Actor{Name: "cli:" + name, Via: auth.ViaCLI, Addr: "local"}
}

type userAddCmd struct {
	accountFlags
	Name        string   `arg:"" help:"Login name: a-z, 0-9, '.', '_', '-', '@'."`
	Role        string   `help:"viewer, operator, supervisor or admin." required:"" enum:"viewer,operator,supervisor,admin"`
	DisplayName string   `help:"Name shown in the console."`
	Groups      []string `help:"Camera groups the user is limited to (default: every camera)." sep:","`
}

func (c *userAddCmd) Run(e *env) error {
	role, err := auth.ParseRole(c.Role)
	if err != nil {
		return err
	}
	return c.with(e, func(svc *auth.Service) error {
		pw, err := readNewPassword(e, "Password for "+c.Name)
		if err != nil {
			return err
		}
		u, err := svc.CreateUser(e.ctx, cliActor(), auth.NewUser{Name: c.Name, DisplayName: c.DisplayName, Role: role,
			Groups: c.Groups, Password: pw})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s created with role %s\n", u.Name, u.Role)
		return nil
	})
}

type userPasswdCmd struct {
	accountFlags
	Name string `arg:"" help:"Login name."`
}

func (c *userPasswdCmd) Run(e *env) error {
	return c.with(e, func(svc *auth.Service) error {
		if _, err := svc.GetUser(e.ctx, c.Name); err != nil {
			return noUser(err, c.Name)
		}
		pw, err := readNewPassword(e, "New password for "+c.Name)
		if err != nil {
			return err
		}
		if err := svc.SetPassword(e.ctx, cliActor(), c.Name, pw); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "password of %s changed; their sessions have ended\n", auth.NormalizeName(c.Name))
		return nil
	})
}

type userDisableCmd struct {
	accountFlags
	Name string `arg:"" help:"Login name."`
}

func (c *userDisableCmd) Run(e *env) error { return setDisabled(e, c.accountFlags, c.Name, true) }

type userEnableCmd struct {
	accountFlags
	Name string `arg:"" help:"Login name."`
}

func (c *userEnableCmd) Run(e *env) error { return setDisabled(e, c.accountFlags, c.Name, false) }

func setDisabled(e *env, f accountFlags, name string, disabled bool) error {
	return f.with(e, func(svc *auth.Service) error {
		u, err := svc.UpdateUser(e.ctx, cliActor(), name, auth.UserUpdate{Disabled: &disabled})
		if err != nil {
			return noUser(err, name)
		}
		state := "enabled"
		if u.Disabled {
			state = "disabled; their sessions have ended"
		}
		fmt.Fprintf(e.stdout, "user %s %s\n", u.Name, state)
		return nil
	})
}

type userListCmd struct {
	accountFlags
	JSON bool `help:"Print JSON."`
}

func (c *userListCmd) Run(e *env) error {
	return c.with(e, func(svc *auth.Service) error {
		users, err := svc.ListUsers(e.ctx)
		if err != nil {
			return err
		}
		if c.JSON {
			return printJSON(e.stdout, users)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tGROUPS\tSTATE\tDISPLAY NAME")
		for _, u := range users {
			groups, state := "all cameras", "enabled"
			if len(u.Groups) > 0 {
				groups = strings.Join(u.Groups, ",")
			}
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, groups, state, u.DisplayName)
		}
		return tw.Flush()
	})
}

type tokenCreateCmd struct {
	accountFlags
	User    string        `help:"The user the token acts for." required:""`
	Name    string        `help:"What the token is for (e.g. nvr-export)." required:""`
	Role    string        `help:"viewer up to the user's role." required:"" enum:"viewer,operator,supervisor,admin"`
	Expires time.Duration `help:"Lifetime, e.g. 720h (default: until revoked)."`
}

func (c *tokenCreateCmd) Run(e *env) error {
	role, err := auth.ParseRole(c.Role)
	if err != nil {
		return err
	}
	return c.with(e, func(svc *auth.Service) error {
		secret, t, err := svc.CreateToken(e.ctx, cliActor(), c.User, c.Name, role, c.Expires)
		if err != nil {
			return noUser(err, c.User)
		}
		fmt.Fprintf(e.stderr, "token %s for %s (%s) created; it is shown once, send it as \"Authorization: Bearer <token>\":\n", t.ID, t.User, t.Role)
		fmt.Fprintln(e.stdout, secret)
		return nil
	})
}

type tokenRevokeCmd struct {
	accountFlags
	ID string `arg:"" help:"Token id (see vigil token list)."`
}

func (c *tokenRevokeCmd) Run(e *env) error {
	return c.with(e, func(svc *auth.Service) error {
		t, err := svc.RevokeToken(e.ctx, cliActor(), c.ID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no token %q", c.ID)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "token %s (%s of %s) revoked\n", t.ID, t.Name, t.User)
		return nil
	})
}

type tokenListCmd struct {
	accountFlags
	User string `help:"Only this user's tokens."`
	JSON bool   `help:"Print JSON."`
}

func (c *tokenListCmd) Run(e *env) error {
	return c.with(e, func(svc *auth.Service) error {
		ts, err := svc.ListTokens(e.ctx, c.User)
		if err != nil {
			return noUser(err, c.User)
		}
		if c.JSON {
			return printJSON(e.stdout, ts)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tNAME\tROLE\tCREATED\tEXPIRES\tLAST USED\tREVOKED")
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, t.Name, t.Role, day(t.Created), day(t.Expires), day(t.LastUsed), day(t.Revoked))
		}
		return tw.Flush()
	})
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func noUser(err error, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q", name)
	}
	return err
}

// readNewPassword asks for a new password twice on a terminal (without
// echo), or reads one line from a pipe, and checks the password rules.
func readNewPassword(e *env, prompt string) (string, error) {
	var pw string
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		first, err := promptPassword(e, f, prompt+": ")
		if err != nil {
			return "", err
		}
		again, err := promptPassword(e, f, "Again: ")
		if err != nil {
			return "", err
		}
		if first != again {
			return "", errors.New("the passwords differ")
		}
		pw = first
	} else {
		line, err := bufio.NewReader(io.LimitReader(stdin, auth.MaxPasswordLen+2)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if err := auth.CheckPassword(pw); err != nil {
		return "", err
	}
	return pw, nil
}

func promptPassword(e *env, f *os.File, prompt string) (string, error) {
	fmt.Fprint(e.stderr, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return string(b), nil
}
