package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/credvault/vault"
)

// TestExecChildCannotReadKey: the child of exec, a process of the same
// user, cannot read credvault's /proc/<pid>/environ, where MASTER_KEY is
// still to be found although the child's own environment lacks it:
// credvault makes itself non-dumpable first thing. As root, who may read
// anything, credvault runs as nobody, so that the test means the same
// everywhere.
func TestExecChildCannotReadKey(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh")
	}
	dir := t.TempDir()
	for d := dir; strings.HasPrefix(d, os.TempDir()) && d != filepath.Clean(os.TempDir()); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Skip(err)
		}
	}
	key := vault.GenerateKey()
	path := filepath.Join(dir, "credentials.enc")
	if err := vault.Seal(path, map[string]any{"app": map[string]any{"token": "not-a-real-token"}}, key); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	credvault := copyTestBinary(t, dir, "credvault")

	cmd := exec.Command(credvault, "exec", "-no-mask", "-vault", path, "sh", "-c", `cat /proc/$PPID/environ; echo "cat: $?"`)
	cmd.Env = []string{"MASTER_KEY=" + key.Encode(), "PATH=" + os.Getenv("PATH")}
	cmd.Dir = dir
	if os.Getuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if strings.Contains(string(out), key.Encode()) {
		t.Errorf("the child read the key from credvault's environ:\n%s", out)
	}
	if !strings.Contains(string(out), "Permission denied") || !strings.Contains(string(out), "cat: 1") {
		t.Errorf("the child's cat did not fail with permission denied:\n%s", out)
	}
}

// copyTestBinary copies this test binary into dir as name, which the
// testscript main dispatch then runs as that command.
func copyTestBinary(t *testing.T, dir, name string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	src, err := os.Open(exe)
	if err != nil {
		t.Skip(err)
	}
	defer src.Close()
	path := filepath.Join(dir, name)
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
