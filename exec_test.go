package vault

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExecEnv(t *testing.T) {
	key := GenerateKey()
	rec := &recorder{}
	v, err := Open(sealSeed(t, key), []*Key{key}, WithAuditor(rec))
	if err != nil {
		t.Fatal(err)
	}
	env, m, err := v.ExecEnv(ExecSpec{
		Args:    []string{"/usr/local/bin/deploy", "--token", "not-audited"},
		Base:    []string{"HOME=/home/ci", "MASTER_KEY=" + key.Encode(), "APP_PORT=stale", "PATH=/bin"},
		Remove:  []string{"MASTER_KEY"},
		Prefix:  "APP_",
		Flatten: []FlattenOption{FromPath("database")},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"HOME=/home/ci", "PATH=/bin", "APP_HOST=db.example.com", "APP_PASSWORD=s3cret!P@ss", "APP_PORT=5432", "APP_USERNAME=app_user"}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	e := rec.events[len(rec.events)-1]
	if e.Op != OpExec || e.Command != "deploy" || len(e.Names) != 4 || e.ValueFingerprint == "" {
		t.Errorf("exec event = %+v", e)
	}
	// The masker covers the values and the key.
	var out strings.Builder
	r := m.Redactor(&out)
	fmt.Fprintf(r, "%s %s", "s3cret!P@ss", key.Encode())
	r.Close()
	if out.String() != "*** ***" {
		t.Errorf("masked output %q", out.String())
	}

	rec.fail = errors.New("audit down")
	if env, m, err := v.ExecEnv(ExecSpec{Args: []string{"x"}}); env != nil || m != nil || !errors.Is(err, ErrAudit) {
		t.Errorf("ExecEnv with a failing auditor = %d variables, %v", len(env), err)
	}
}

func TestExecEnvTooLarge(t *testing.T) {
	key := GenerateKey()
	secrets := map[string]any{}
	// Variables of 100 KiB, each under the per-variable limit, up to more
	// than this system's limit for the whole.
	for i := range execArgLimit()/(100<<10) + 5 {
		secrets[fmt.Sprintf("blob%02d", i)] = strings.Repeat("y", 100<<10-i)
	}
	secrets["small"] = "z"
	v, err := Open(sealPath(t, secrets, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = v.ExecEnv(ExecSpec{Args: []string{"deploy"}})
	if err == nil {
		t.Fatalf("ExecEnv accepted more than %d bytes of environment", execArgLimit())
	}
	for _, says := range []string{"more than the", "bytes the system passes to a program", "the largest are BLOB00 (102408 bytes), BLOB01 (102407 bytes), BLOB02", "-path"} {
		if !strings.Contains(err.Error(), says) {
			t.Errorf("error %q\ndoes not say %q", err, says)
		}
	}
	assertNoLeak(t, "error", err.Error(), strings.Repeat("y", 10))
}

func sealPath(t *testing.T, secrets map[string]any, key *Key) string {
	t.Helper()
	path := t.TempDir() + "/v.enc"
	if err := Seal(path, secrets, key); err != nil {
		t.Fatal(err)
	}
	return path
}
