package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openTerminal opens a pseudo-terminal: what a program writes to tty, the
// test reads from pty.
func openTerminal(t *testing.T) (pty, tty *os.File) {
	t.Helper()
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { pty.Close() })
	if err := unix.IoctlSetPointerInt(int(pty.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(pty.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return pty, tty
}

// onTerminal runs credvault with env in dir, its stderr on a terminal, and
// returns what the terminal showed.
func onTerminal(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	pty, tty := openTerminal(t)
	cmd := exec.Command("credvault", args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	cmd.Stderr = tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the child has its own; reading pty ends when it exits
	shown, err := io.ReadAll(pty)
	var pathErr *os.PathError
	if err != nil && !(errors.As(err, &pathErr) && pathErr.Err == syscall.EIO) {
		t.Fatal(err)
	}
	cmd.Wait()
	return strings.ReplaceAll(string(shown), "\r\n", "\n")
}

// TestAuditOnTerminal checks what a person at a terminal sees of the audit:
// one short line per command outside CI, complete records in CI, and
// nothing with $CREDVAULT_AUDIT, whose file gets the complete records.
func TestAuditOnTerminal(t *testing.T) {
	const key = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=" // fingerprint 8343ee68f937
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secrets.json"), []byte(`{"database": {"password": "s3cret!P@ss", "user": "app_user"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	seal := exec.Command("credvault", "seal", "-audit", os.DevNull, "secrets.json")
	seal.Dir, seal.Env = dir, []string{"PATH=" + os.Getenv("PATH"), "MASTER_KEY=" + key}
	if out, err := seal.CombinedOutput(); err != nil {
		t.Fatalf("seal: %v\n%s", err, out)
	}

	for _, tt := range []struct {
		name string
		env  []string
		args []string
		want string // the whole terminal, or a regexp with want~
	}{
		{"get", nil, []string{"get", "database.password"},
			"credvault: audit: get database.password (credentials.enc, key 8343ee68f937)\n"},
		{"a failed get", nil, []string{"get", "database.pasword"},
			"~^credvault get: credentials.enc: no credential .*\ncredvault: audit: get database.pasword \\(credentials.enc, key 8343ee68f937\\): failed\n$"},
		{"env", nil, []string{"env", "-prefix", "APP_"},
			"credvault: audit: export 2 names (credentials.enc, key 8343ee68f937)\n"},
		{"wrong key", []string{"MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, []string{"show"},
			"~^credvault show: credentials.enc: wrong key.*\ncredvault show: hint: .*\ncredvault: audit: open \\(credentials.enc\\): failed\n$"},
		{"in CI", []string{"GITHUB_ACTIONS=true", "CI=true", "GITHUB_RUN_ID=1658821493"}, []string{"get", "database.password"},
			"~^time=.* op=open .*\ntime=.* op=get vault=credentials.enc path=database.password .*pipeline.platform=github-actions pipeline.run_id=1658821493 outcome=ok\n$"},
		{"to a file", []string{"CREDVAULT_AUDIT=" + filepath.Join(dir, "audit.jsonl")}, []string{"get", "database.password"},
			""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"MASTER_KEY=" + key}, tt.env...)
			terminal := onTerminal(t, dir, env, tt.args...)
			if want, ok := strings.CutPrefix(tt.want, "~"); ok {
				if !regexpMatch(want, terminal) {
					t.Errorf("the terminal showed\n%s\nwant a match for %s", terminal, want)
				}
			} else if terminal != tt.want {
				t.Errorf("the terminal showed\n%q\nwant\n%q", terminal, tt.want)
			}
			for _, s := range []string{"s3cret!P@ss", "app_user", key} {
				if strings.Contains(terminal, s) {
					t.Errorf("the terminal shows a secret: %q", terminal)
				}
			}
		})
	}
	records, err := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(records), "\"msg\":\"credvault audit\""); n != 2 {
		t.Errorf("$CREDVAULT_AUDIT holds %d records, want 2 (open, get):\n%s", n, records)
	}
}

func regexpMatch(pattern, s string) bool {
	return regexp.MustCompile(pattern).MatchString(s)
}

// TestKeyCommandPromptsAtTerminal runs credvault as a terminal's session
// leader, as a shell runs a foreground job, with a key command that asks for
// a passphrase on /dev/tty as "op read" does: the prompt must reach the
// person, the answer the command, and the key credvault.
func TestKeyCommandPromptsAtTerminal(t *testing.T) {
	const key = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=" // fingerprint 8343ee68f937
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secrets.json"), []byte(`{"database": {"password": "s3cret!P@ss"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	seal := exec.Command("credvault", "seal", "-audit", os.DevNull, "secrets.json")
	seal.Dir, seal.Env = dir, []string{"PATH=" + os.Getenv("PATH"), "MASTER_KEY=" + key}
	if out, err := seal.CombinedOutput(); err != nil {
		t.Fatalf("seal: %v\n%s", err, out)
	}

	pty, tty := openTerminal(t)
	keyCmd := `printf 'passphrase: ' >/dev/tty; read answer </dev/tty; [ "$answer" = sesame ] && echo ` + key
	cmd := exec.Command("credvault", "get", "-audit", os.DevNull, "-key-timeout", "20s", "database.password")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "CREDVAULT_KEY_CMD=" + keyCmd}
	cmd.Stdin, cmd.Stderr = tty, tty
	var stdout strings.Builder
	cmd.Stdout = &stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var shown strings.Builder
	answered := false
	buf := make([]byte, 256)
	for {
		n, err := pty.Read(buf)
		shown.Write(buf[:n])
		if !answered && strings.Contains(shown.String(), "passphrase: ") {
			pty.Write([]byte("sesame\n"))
			answered = true
		}
		if err != nil {
			break // EIO: the terminal's last process has gone
		}
	}
	err := cmd.Wait()
	if err != nil || stdout.String() != "s3cret!P@ss\n" {
		t.Errorf("get with a key command that prompts: %v, stdout %q; the terminal showed:\n%s", err, stdout.String(), shown.String())
	}
	if strings.Contains(shown.String(), key) {
		t.Errorf("the terminal shows the key:\n%s", shown.String())
	}
}
