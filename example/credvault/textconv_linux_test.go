package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTextconvQuietOnTerminal runs textconv, as git diff does for every
// version, with stderr on a terminal: no audit line appears there, whether
// the vault opens or not.
func TestTextconvQuietOnTerminal(t *testing.T) {
	const key = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secrets.json"), []byte(`{"database": {"password": "s3cret!P@ss"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	seal := exec.Command("credvault", "seal", "-audit", os.DevNull, "secrets.json")
	seal.Dir, seal.Env = dir, []string{"PATH=" + os.Getenv("PATH"), "MASTER_KEY=" + key}
	if out, err := seal.CombinedOutput(); err != nil {
		t.Fatalf("seal: %v\n%s", err, out)
	}
	for name, env := range map[string][]string{
		"with the key": {"MASTER_KEY=" + key},
		"a wrong key":  {"MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		"no key":       nil,
	} {
		t.Run(name, func(t *testing.T) {
			if shown := onTerminal(t, dir, env, "textconv", "credentials.enc"); shown != "" {
				t.Errorf("the terminal showed %q, want nothing", shown)
			}
		})
	}
	// The same command that is not textconv shows its audit line: the
	// terminal is one.
	if shown := onTerminal(t, dir, []string{"MASTER_KEY=" + key}, "show"); shown == "" {
		t.Error("show printed no audit line on the terminal: the test's terminal does not work")
	}
}
