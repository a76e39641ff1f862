package vaulttest_test

import (
	"errors"
	"os"
	"testing"

	"github.com/credvault/vault"
	"github.com/credvault/vault/vaulttest"
	"github.com/google/go-cmp/cmp"
)

func TestNewAndKeyring(t *testing.T) {
	path, keys := vaulttest.New(t, map[string]any{"db": map[string]any{"password": "test-pass"}})
	vaulttest.SetKeyring(t, "TEST_MASTER_KEY", keys)
	ring, err := vault.ParseKeyring(os.Getenv("TEST_MASTER_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(path, ring)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := v.Get("db.password"); got != "test-pass" {
		t.Errorf("got %q", got)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("vault file: %v, %v", info, err)
	}
}

func TestSetenvAndRecorder(t *testing.T) {
	rec := &vaulttest.Recorder{}
	v := vaulttest.Open(t, map[string]any{"api": map[string]any{"token": "t0ken", "port": 8080}}, vault.WithAuditor(rec))
	vaulttest.Setenv(t, v, "APP_")
	if os.Getenv("APP_API_TOKEN") != "t0ken" || os.Getenv("APP_API_PORT") != "8080" {
		t.Errorf("environment: %q %q", os.Getenv("APP_API_TOKEN"), os.Getenv("APP_API_PORT"))
	}
	v.Get("api.nope")
	if diff := cmp.Diff([]string{"open", "flatten", "get api.nope error"}, rec.Ops()); diff != "" {
		t.Errorf("ops (-want +got):\n%s", diff)
	}
	rec.Err = errors.New("audit down")
	if _, err := v.Get("api.token"); !errors.Is(err, vault.ErrAudit) {
		t.Errorf("a failing recorder: %v", err)
	}
}
