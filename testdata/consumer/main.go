// Command deploy is a small deploy tool built on package vault, as a team
// would write one. It opens the vault with the keyring from $MASTER_KEY,
// reads the deploy settings into a struct and an optional region, and runs
// the deploy command with the app's secrets in its environment and its
// output masked, under a deadline, with audit records that carry the run's
// trace id:
//
//	deploy [-vault credentials.enc] [-timeout 10m] CMD [ARGS...]
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/credvault/vault"
)

// Target is the vault's "deploy" object.
type Target struct {
	Environment string `json:"environment"`
	Replicas    int    `json:"replicas"`
}

// A Deployer runs deploy commands with a vault's secrets.
type Deployer struct {
	Vault          string       // the vault file
	Keys           []*vault.Key // its keyring
	Logger         *slog.Logger // receives the audit records and the tool's own
	Env            []string     // the environment to start from, os.Environ()
	Stdout, Stderr io.Writer
	Timeout        time.Duration // how long the command may run
}

// Deploy runs cmd with the vault's "app" secrets as APP_* variables, and
// DEPLOY_ENVIRONMENT, DEPLOY_REPLICAS and DEPLOY_REGION (default eu-west-1).
func (d *Deployer) Deploy(ctx context.Context, cmd []string) error {
	audit := vault.WithAuditor(vault.NewSlogAuditor(d.Logger))
	v, err := vault.OpenContext(ctx, d.Vault, d.Keys, audit)
	if err != nil {
		return err
	}
	var target Target
	if err := v.DecodeContext(ctx, "deploy", &target); err != nil {
		return err
	}
	region, ok, err := v.LookupContext(ctx, "deploy.region")
	if err != nil {
		return err
	}
	if !ok {
		region = "eu-west-1"
	}
	d.Logger.InfoContext(ctx, "deploying", "environment", target.Environment, "replicas", target.Replicas, "region", region)

	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	env := append(slices.Clip(d.Env),
		"DEPLOY_ENVIRONMENT="+target.Environment,
		"DEPLOY_REPLICAS="+strconv.Itoa(target.Replicas),
		"DEPLOY_REGION="+region)
	return v.Run(ctx, &vault.Command{
		Args:    cmd,
		Env:     env,
		Strip:   []string{"MASTER_KEY"},
		Prefix:  "APP_",
		Flatten: []vault.FlattenOption{vault.FromPath("app")},
		Stdout:  d.Stdout, Stderr: d.Stderr,
		RelaySignals: true,
	})
}

// traceKey holds a run's trace id in a context.
type traceKey struct{}

// WithTrace returns ctx carrying the trace id.
func WithTrace(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, traceKey{}, id)
}

// TraceHandler adds the context's trace id to every record, as a tracing
// library's slog bridge does; the audit records get it because the vault
// hands its Auditor the caller's context.
type TraceHandler struct{ slog.Handler }

// Handle adds trace_id and passes the record on.
func (h TraceHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(traceKey{}).(string); ok {
		r.AddAttrs(slog.String("trace_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func main() {
	if err := vault.HardenProcess(); err != nil {
		fmt.Fprintln(os.Stderr, "deploy: warning:", err)
	}
	path := flag.String("vault", "credentials.enc", "the vault `file`")
	timeout := flag.Duration("timeout", 10*time.Minute, "how long the command may run")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: deploy [-vault FILE] [-timeout D] CMD [ARGS...]")
		os.Exit(2)
	}
	keys, err := vault.KeyringFromEnv(os.Getenv, "MASTER_KEY")
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy:", err)
		os.Exit(1)
	}
	trace := make([]byte, 8)
	rand.Read(trace)
	d := &Deployer{
		Vault: *path, Keys: keys,
		Logger: slog.New(TraceHandler{slog.NewJSONHandler(os.Stderr, nil)}),
		Env:    os.Environ(), Stdout: os.Stdout, Stderr: os.Stderr,
		Timeout: *timeout,
	}
	err = d.Deploy(WithTrace(context.Background(), hex.EncodeToString(trace)), flag.Args())
	var exit *vault.ExitError
	switch {
	case errors.As(err, &exit):
		if !exit.Started {
			fmt.Fprintln(os.Stderr, "deploy:", err)
		}
		os.Exit(exit.Code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "deploy:", err)
		os.Exit(1)
	}
}
