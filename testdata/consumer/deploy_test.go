package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/credvault/vault"
	"github.com/credvault/vault/vaulttest"
)

var secrets = map[string]any{
	"app":    map[string]any{"token": "fake-deploy-token", "db_password": "fake-db-pass"},
	"deploy": map[string]any{"environment": "staging", "replicas": 2},
}

// deployer is the test fixture: a Deployer over a fresh vault, with its
// output and log in buffers.
func deployer(t *testing.T, timeout time.Duration) (*Deployer, *vault.Vault, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("the deploy commands are sh scripts")
	}
	path, keys := vaulttest.New(t, secrets)
	v, err := vault.Open(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	var out, log bytes.Buffer
	return &Deployer{
		Vault: path, Keys: keys,
		Logger: slog.New(TraceHandler{slog.NewJSONHandler(&log, nil)}),
		Env:    []string{"PATH=/usr/bin:/bin", "MASTER_KEY=" + keys[0].Encode()},
		Stdout: &out, Stderr: &out,
		Timeout: timeout,
	}, v, &out, &log
}

func TestDeploy(t *testing.T) {
	d, v, out, log := deployer(t, time.Minute)
	ctx := WithTrace(context.Background(), "trace-0af7651916cd43dd")
	err := d.Deploy(ctx, []string{"sh", "-c", `echo "token=$APP_TOKEN env=$DEPLOY_ENVIRONMENT replicas=$DEPLOY_REPLICAS region=$DEPLOY_REGION key=${MASTER_KEY:-none}"`})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "token=*** env=staging replicas=2 region=eu-west-1 key=none\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
	for _, op := range []string{`"op":"open"`, `"op":"decode"`, `"op":"lookup"`, `"op":"exec"`} {
		if !strings.Contains(log.String(), op) {
			t.Errorf("no %s audit record in:\n%s", op, log)
		}
	}
	if n := strings.Count(log.String(), `"trace_id":"trace-0af7651916cd43dd"`); n != 5 {
		t.Errorf("%d records carry the trace id, want 5 (4 audit records and the tool's own):\n%s", n, log)
	}
	// The deploy settings are printed on purpose; the app's secrets and
	// the key must not be.
	settings := vault.NotSecret("deploy")
	vaulttest.CheckNoLeaks(t, "the output", out.Bytes(), v, settings)
	vaulttest.CheckNoLeaks(t, "the log", log.Bytes(), v, settings)
}

// TestDeployDeadline: a command that outlives its deadline gets SIGTERM,
// and the error says the deadline ended it.
func TestDeployDeadline(t *testing.T) {
	d, _, _, _ := deployer(t, 200*time.Millisecond)
	err := d.Deploy(context.Background(), []string{"sh", "-c", "echo started; exec sleep 30"})
	var exit *vault.ExitError
	if !errors.As(err, &exit) || !errors.Is(err, context.DeadlineExceeded) || exit.Signal != syscall.SIGTERM || exit.Code != 143 {
		t.Errorf("error %v, want the command ended by SIGTERM at the deadline", err)
	}
}

// TestDeployFailure: the command's own status comes back for the tool to
// exit with.
func TestDeployFailure(t *testing.T) {
	d, _, _, _ := deployer(t, time.Minute)
	err := d.Deploy(context.Background(), []string{"sh", "-c", "exit 4"})
	var exit *vault.ExitError
	if !errors.As(err, &exit) || exit.Code != 4 {
		t.Errorf("error %v, want exit status 4", err)
	}
}
