package vault

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHardenHelper is not a test: it is a process that the tests of
// HardenProcess start, this test binary run again with VAULT_HARDEN_HELPER
// set to what it should do.
func TestHardenHelper(t *testing.T) {
	switch os.Getenv("VAULT_HARDEN_HELPER") {
	case "":
		return
	case "dumpable": // harden, then report the flag
		if err := HardenProcess(); err != nil {
			os.Stdout.WriteString(err.Error())
			os.Exit(1)
		}
		n, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		os.Stdout.WriteString(strconv.Itoa(n) + " " + errString(err))
	case "parent", "hardened parent": // start a child that reads this process's environ
		if os.Getenv("VAULT_HARDEN_HELPER") == "hardened parent" {
			if err := HardenProcess(); err != nil {
				os.Stdout.WriteString(err.Error())
				os.Exit(1)
			}
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestHardenHelper$")
		cmd.Env = []string{"VAULT_HARDEN_HELPER=child"}
		cmd.Stdout = os.Stdout
		cmd.Run()
	case "child": // read the parent's initial environment, as a child of credvault exec could
		b, err := os.ReadFile("/proc/" + strconv.Itoa(os.Getppid()) + "/environ")
		switch {
		case err != nil:
			os.Stdout.WriteString("denied: " + err.Error())
		case strings.Contains(string(b), "MASTER_KEY=not-a-real-key"):
			os.Stdout.WriteString("read the key")
		default:
			os.Stdout.WriteString("read, without the key")
		}
	}
	os.Exit(0)
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// TestHardenProcess: HardenProcess clears the process's dumpable flag.
func TestHardenProcess(t *testing.T) {
	out := runHardenHelper(t, "dumpable", false)
	if out != "0 ok" {
		t.Errorf("PR_GET_DUMPABLE after HardenProcess: %q, want 0", out)
	}
}

// TestHardenProcessHidesEnviron: a child of the same user reads its
// parent's /proc/<pid>/environ, key included, unless the parent called
// HardenProcess. As root (who may read anything) the processes run as
// nobody, so that the test means the same everywhere.
func TestHardenProcessHidesEnviron(t *testing.T) {
	if out := runHardenHelper(t, "parent", true); out != "read the key" {
		t.Fatalf("a child read its ordinary parent's environ: %q, want the key (the test cannot tell anything)", out)
	}
	if out := runHardenHelper(t, "hardened parent", true); !strings.HasPrefix(out, "denied: ") || !strings.Contains(out, "permission denied") {
		t.Errorf("a child read its hardened parent's environ: %q, want permission denied", out)
	}
}

// runHardenHelper runs the helper to do what, with the fake key in its
// environment, and returns its output. With asUser, a root test runs it as
// nobody, from a copy of the test binary that nobody can run.
func runHardenHelper(t *testing.T, what string, asUser bool) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestHardenHelper$")
	cmd.Env = []string{"VAULT_HARDEN_HELPER=" + what, "MASTER_KEY=not-a-real-key"}
	if asUser && os.Getuid() == 0 {
		cmd.Path = copyExecutable(t, exe)
		cmd.Args[0] = cmd.Path
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper %q: %v: %s", what, err, out)
	}
	return string(out)
}

// copyExecutable copies the file exe into a new directory that every user
// may enter, as a program every user may run.
func copyExecutable(t *testing.T, exe string) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()) && d != filepath.Clean(os.TempDir()); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Skip(err)
		}
	}
	src, err := os.Open(exe)
	if err != nil {
		t.Skip(err)
	}
	defer src.Close()
	path := filepath.Join(dir, "vault.test")
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
