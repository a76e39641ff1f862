//go:build unix

package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// TestHelperProcess is not a test: it is the child that the tests of Run
// start, this test binary run again with VAULT_TEST_HELPER set. Its first
// argument says what to do.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("VAULT_TEST_HELPER") != "1" {
		return
	}
	args := os.Args
	for len(args) > 0 && args[0] != "--" {
		args = args[1:]
	}
	os.Exit(helperMain(args[1:]))
}

func helperMain(args []string) int {
	switch args[0] {
	case "env": // print the environment, sorted
		env := os.Environ()
		slices.Sort(env)
		for _, kv := range env {
			fmt.Println(kv)
		}
	case "print": // print the arguments, to stdout and stderr, without a newline
		fmt.Print(strings.Join(args[1:], " "))
		fmt.Fprint(os.Stderr, strings.Join(args[1:], " "))
	case "exit":
		n, _ := strconv.Atoi(args[1])
		return n
	case "touch": // create a file
		os.WriteFile(args[1], nil, 0o600)
	case "pgrp": // print the process's id and its process group's
		fmt.Println(os.Getpid(), syscall.Getpgrp())
	case "wait": // wait for a signal, or for up to 10 s; "ignore" ignores SIGTERM, "exit0" exits 0 on it
		sigs := make(chan os.Signal, 1)
		mode := ""
		if len(args) > 1 {
			mode = args[1]
		}
		if mode == "ignore" {
			signal.Ignore(syscall.SIGTERM)
		} else {
			signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP)
		}
		fmt.Println("ready")
		select {
		case sig := <-sigs:
			fmt.Println("got", sig)
			if mode == "exit0" {
				return 0
			}
			return 3
		case <-time.After(10 * time.Second):
			return 4
		}
	}
	return 0
}

// helperCommand is a Command that runs the helper with args.
func helperCommand(t *testing.T, args ...string) *Command {
	t.Helper()
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("the helper relies on Unix signals and processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	return &Command{
		Args: append([]string{exe, "-test.run=^TestHelperProcess$", "--"}, args...),
		Env:  []string{"VAULT_TEST_HELPER=1"},
	}
}

// TestRunEnvironment: the child has Env without the Strip variables and any
// variable holding the key (in any form), and the vault's variables; the
// run is audited with the program's base name.
func TestRunEnvironment(t *testing.T) {
	key := GenerateKey()
	rec := &recorder{}
	v, err := Open(sealSeed(t, key), []*Key{key}, WithAuditor(rec))
	if err != nil {
		t.Fatal(err)
	}
	c := helperCommand(t, "env")
	c.Env = append(c.Env, "HOME=/home/ci", "MASTER_KEY="+key.Encode(), "CREDVAULT_AGE_KEY=AGE-SECRET-KEY-1FAKE",
		"OLD_KEY="+GenerateKey().Encode()+","+base64.StdEncoding.EncodeToString(key.fernetKey()[:]), "APP_PORT=stale")
	c.Strip = []string{"CREDVAULT_AGE_KEY"}
	c.Prefix, c.Flatten = "APP_", []FlattenOption{FromPath("database")}
	var out bytes.Buffer
	c.Stdout, c.Unmasked = &out, true
	if err := v.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	want := "APP_HOST=db.example.com\nAPP_PASSWORD=s3cret!P@ss\nAPP_PORT=5432\nAPP_USERNAME=app_user\nHOME=/home/ci\nVAULT_TEST_HELPER=1\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
	e := rec.events[len(rec.events)-1]
	if e.Op != OpExec || e.Command != filepath.Base(c.Args[0]) || len(e.Names) != 4 || e.ValueFingerprint == "" || slices.Contains(e.Names, "-test.run=^TestHelperProcess$") {
		t.Errorf("exec event = %+v", e)
	}
}

// TestRunKeyForms: every key of the keyring, in every form ParseKey reads,
// and the Conceal secrets are kept out of the child's environment and
// masked in its output: the other key of "new,old" too, the key without
// its padding (OTHER=${K%=}), in standard base64, in hex of either case.
func TestRunKeyForms(t *testing.T) {
	newKey, oldKey := GenerateKey(), GenerateKey()
	const identity = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
	v, err := Open(sealSeed(t, oldKey), []*Key{newKey, oldKey})
	if err != nil {
		t.Fatal(err)
	}
	var forms []string
	for _, k := range []*Key{newKey, oldKey} {
		raw := k.fernetKey()[:]
		h := hex.EncodeToString(raw)
		forms = append(forms,
			base64.URLEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw),
			base64.StdEncoding.EncodeToString(raw), base64.RawStdEncoding.EncodeToString(raw),
			h, strings.ToUpper(h))
	}
	for _, form := range forms {
		if _, err := ParseKey(form); err != nil {
			t.Fatalf("ParseKey does not read a form the test uses: %v", err)
		}
	}
	secrets := append(slices.Clone(forms), identity)

	c := helperCommand(t, "env")
	for i, s := range secrets {
		c.Env = append(c.Env, fmt.Sprintf("FORM_%d=x%sx", i, s))
	}
	c.Env = append(c.Env, "MIXED_HEX="+mixedCase(hex.EncodeToString(oldKey.fernetKey()[:])))
	c.Conceal = []string{identity}
	var env bytes.Buffer
	c.Stdout, c.Unmasked = &env, true
	if err := v.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(env.String(), "FORM_") || strings.Contains(env.String(), "MIXED_HEX") {
		t.Errorf("the child got a variable holding a key or a Conceal secret:\n%s", env.String())
	}

	c = helperCommand(t, append([]string{"print"}, secrets...)...)
	c.Conceal = []string{identity}
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := v.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(strings.Repeat("*** ", len(secrets)))
	if stdout.String() != want || stderr.String() != want {
		t.Errorf("output %q and %q, want %q", stdout.String(), stderr.String(), want)
	}

	m, err := v.Masker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var masked bytes.Buffer
	r := m.Redactor(&masked)
	fmt.Fprint(r, strings.Join(forms, " "))
	r.Close()
	if want := strings.TrimSpace(strings.Repeat("*** ", len(forms))); masked.String() != want {
		t.Errorf("Vault.Masker gave %q, want %q", masked.String(), want)
	}
}

// mixedCase alternates the case of s's letters.
func mixedCase(s string) string {
	b := []byte(s)
	for i := range b {
		if i%2 == 0 {
			b[i] = byte(unicode.ToUpper(rune(b[i])))
		}
	}
	return string(b)
}

// TestRunMasksAndFlushes: each stream goes through its own Redactor, which
// masks the values and the key, and whose held bytes are flushed when the
// command ends (a prefix of a secret printed last, without a newline).
func TestRunMasksAndFlushes(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealSeed(t, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ printed, want string }{
		{"pw=s3cret!P@ss", "pw=***"},
		{"key " + key.Encode(), "key ***"},
		{"held s3cret", "held s3cret"},
	} {
		t.Run(tt.printed[:4], func(t *testing.T) {
			c := helperCommand(t, "print", tt.printed)
			var stdout, stderr bytes.Buffer
			c.Stdout, c.Stderr = &stdout, &stderr
			if err := v.Run(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			if stdout.String() != tt.want || stderr.String() != tt.want {
				t.Errorf("stdout %q, stderr %q, want %q", stdout.String(), stderr.String(), tt.want)
			}
		})
	}
}

// TestRunMasksTheVaultsValues: Run masks the values it gives the command,
// less those declared NotSecret, and not the values of Env, although the
// Masker gathers them from the command's environment.
func TestRunMasksTheVaultsValues(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealSeed(t, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	c := helperCommand(t, "print", "db.example.com s3cret!P@ss app_user AKIAIOSFODNN7EXAMPLE inherited-value")
	c.Env = append(c.Env, "INHERITED=inherited-value", "APP_USERNAME=stale-value")
	c.Prefix, c.Flatten = "APP_", []FlattenOption{NotSecret("database.host")}
	var stdout bytes.Buffer
	c.Stdout = &stdout
	if err := v.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if want := "db.example.com *** *** *** inherited-value"; stdout.String() != want {
		t.Errorf("output %q, want %q", stdout.String(), want)
	}
}

// TestRunSameStdoutStderr: when Stdout and Stderr are one writer, one
// Redactor serves both, as exec.Cmd gives the child one pipe for both: two
// would write to a bytes.Buffer at once (a data race under go test -race).
func TestRunSameStdoutStderr(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealSeed(t, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	c := helperCommand(t, "print", "pw=s3cret!P@ss")
	var both bytes.Buffer
	c.Stdout, c.Stderr = &both, &both
	if err := v.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if want := "pw=***pw=***"; both.String() != want {
		t.Errorf("output %q, want %q", both.String(), want)
	}

	m := NewMasker("s3cret!P@ss")
	var other bytes.Buffer
	uncomparable := writerFunc(both.Write) // a func: == would panic
	for _, tt := range []struct {
		name           string
		stdout, stderr io.Writer
		redactors      int
		same           bool
	}{
		{"the same buffer", &both, &both, 1, true},
		{"two buffers", &both, &other, 2, false},
		{"stdout only", &both, nil, 1, false},
		{"stderr only", nil, &both, 1, false},
		{"uncomparable", uncomparable, uncomparable, 2, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, rs := redactOutput(m, tt.stdout, tt.stderr)
			if len(rs) != tt.redactors || (out != nil && out == errOut) != tt.same {
				t.Errorf("%d redactors, one for both %v; want %d, %v", len(rs), out == errOut, tt.redactors, tt.same)
			}
		})
	}
}

// TestRunExitStatus: how a command ends is an *ExitError with the status a
// shell would give: its own, 128+N after signal N, 127 when the program is
// not found, 126 when it cannot be run.
func TestRunExitStatus(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealSeed(t, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	notExecutable := filepath.Join(t.TempDir(), "deploy.sh")
	os.WriteFile(notExecutable, []byte("#!/bin/sh\n"), 0o600)
	helper := helperCommand(t).Args
	tests := []struct {
		name    string
		args    []string
		code    int
		started bool
		signal  os.Signal
		says    string
	}{
		{"success", append(helper, "exit", "0"), 0, true, nil, ""},
		{"its own status", append(helper, "exit", "7"), 7, true, nil, "exited with status 7"},
		{"not found", []string{"no-such-command-xyz"}, 127, false, nil, "no-such-command-xyz: command not found"},
		{"not found by path", []string{filepath.Join(t.TempDir(), "nope")}, 127, false, nil, "command not found"},
		{"not executable", []string{notExecutable}, 126, false, nil, "cannot run it: permission denied"},
		{"a signal", []string{"/bin/sh", "-c", "kill -TERM $$"}, 143, true, syscall.SIGTERM, "ended by signal terminated (status 143)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Command{Args: tt.args, Env: []string{"VAULT_TEST_HELPER=1"}}
			err := v.Run(context.Background(), c)
			if tt.code == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var exit *ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("error %v, want an *ExitError", err)
			}
			if exit.Code != tt.code || exit.Started != tt.started || exit.Signal != tt.signal || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("ExitError %+v (%q), want code %d, started %v, signal %v, saying %q", exit, err, tt.code, tt.started, tt.signal, tt.says)
			}
		})
	}
}

// TestRunContext: when ctx is done, the command gets SIGTERM, and is killed
// WaitDelay later if it ignores it; the error says the context ended it.
func TestRunContext(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealSeed(t, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		mode   string
		code   int
		signal os.Signal
	}{
		{"", 3, nil},                     // the helper handles SIGTERM: exit 3
		{"exit0", 0, nil},                // it exits 0 on SIGTERM: stopped all the same
		{"ignore", 137, syscall.SIGKILL}, // it ignores SIGTERM: killed after WaitDelay
	} {
		t.Run("mode="+tt.mode, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := helperCommand(t, "wait", tt.mode)
			// A helper that handles SIGTERM gets all the time a loaded
			// machine may need to exit by itself; one that ignores it is
			// killed after a short delay.
			c.WaitDelay = time.Minute
			if tt.mode == "ignore" {
				c.WaitDelay = 100 * time.Millisecond
			}
			c.Stdout = writerFunc(func(p []byte) (int, error) {
				if bytes.Contains(p, []byte("ready")) {
					cancel()
				}
				return len(p), nil
			})
			err := v.Run(ctx, c)
			var exit *ExitError
			if !errors.As(err, &exit) || exit.Code != tt.code || exit.Signal != tt.signal || !errors.Is(err, context.Canceled) {
				t.Errorf("error %v (%+v), want status %d and context.Canceled", err, exit, tt.code)
			}
		})
	}
	t.Run("done before the start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		file := filepath.Join(t.TempDir(), "ran")
		err := v.Run(ctx, helperCommand(t, "touch", file))
		var exit *ExitError
		if !errors.Is(err, context.Canceled) || errors.As(err, &exit) {
			t.Errorf("error %v, want context.Canceled and no ExitError", err)
		}
		if _, err := os.Stat(file); err == nil {
			t.Error("the command ran")
		}
	})
}

// TestRunProcessGroup: a command whose stdin is not a terminal runs in a
// process group of its own, and the end of ctx reaches the processes it
// started (sh -c 'helper & wait'), which would otherwise live on with the
// secrets; one whose stdin is a terminal stays in this process's group, the
// terminal's foreground group, so that it can read the terminal.
func TestRunProcessGroup(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealSeed(t, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	pgrp := func(stdin io.Reader) (pid, group int) {
		t.Helper()
		c := helperCommand(t, "pgrp")
		var out bytes.Buffer
		c.Stdin, c.Stdout = stdin, &out
		if err := v.Run(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Sscan(out.String(), &pid, &group); err != nil {
			t.Fatalf("the helper printed %q: %v", out.String(), err)
		}
		return pid, group
	}
	t.Run("stdin not a terminal: a group of its own", func(t *testing.T) {
		if pid, group := pgrp(strings.NewReader("input")); group != pid || group == syscall.Getpgrp() {
			t.Errorf("the command %d is in group %d; want its own", pid, group)
		}
	})
	t.Run("stdin a terminal: this process's group", func(t *testing.T) {
		tty := openTerminal(t)
		if pid, group := pgrp(tty); group != syscall.Getpgrp() {
			t.Errorf("the command %d is in group %d; want this process's, %d", pid, group, syscall.Getpgrp())
		}
	})
	t.Run("the end of ctx reaches its children", func(t *testing.T) {
		if _, err := exec.LookPath("sh"); err != nil {
			t.Skip("needs sh")
		}
		exe := helperCommand(t).Args
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := &Command{
			// The helper, in the background, announces itself and waits
			// for SIGTERM; the shell waits for it.
			Args: []string{"sh", "-c", `"$0" "$1" -- wait & wait`, exe[0], exe[1]},
			Env:  []string{"VAULT_TEST_HELPER=1", "PATH=" + os.Getenv("PATH")},
			// Long enough that the old behaviour, the grandchild left
			// running, fails the test rather than racing it.
			WaitDelay: 5 * time.Second,
		}
		var out bytes.Buffer
		c.Stdout = writerFunc(func(p []byte) (int, error) {
			if bytes.Contains(p, []byte("ready")) {
				cancel()
			}
			return out.Write(p)
		})
		err := v.Run(ctx, c)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if !strings.Contains(out.String(), "got terminated") {
			t.Errorf("the command's child did not get SIGTERM: its output is %q", out.String())
		}
	})
}

// TestRunRelaysSignals: with RelaySignals, a SIGTERM sent to this process
// while the command runs reaches the command, and this process survives it.
func TestRunRelaysSignals(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealSeed(t, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	c := helperCommand(t, "wait")
	c.RelaySignals = true
	var out bytes.Buffer
	c.Stdout = writerFunc(func(p []byte) (int, error) {
		if bytes.Contains(p, []byte("ready")) {
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
		}
		return out.Write(p)
	})
	err = v.Run(context.Background(), c)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 3 || exit.Caught != syscall.SIGTERM || exit.Signal != nil {
		t.Errorf("error %v (%+v), want the helper's status 3 and SIGTERM caught", err, exit)
	}
	if !strings.Contains(out.String(), "got terminated") {
		t.Errorf("the helper did not get the signal: %q", out.String())
	}
}

// TestRunRefuses: nothing runs when the command is missing, the audit
// fails or the vault was not opened.
func TestRunRefuses(t *testing.T) {
	key := GenerateKey()
	rec := &recorder{fail: errors.New("audit down")}
	v, err := Open(sealSeed(t, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	failing, err := Open(sealSeed(t, key), []*Key{key}, WithAuditor(AuditorFunc(func(ctx context.Context, e Event) error {
		if e.Op == OpExec {
			return rec.fail
		}
		return nil
	})))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ran")
	for name, run := range map[string]func() error{
		"no command":  func() error { return v.Run(context.Background(), &Command{}) },
		"nil command": func() error { return v.Run(context.Background(), nil) },
		"audit fails": func() error { return failing.Run(context.Background(), helperCommand(t, "touch", file)) },
		"not opened":  func() error { return (&Vault{}).Run(context.Background(), helperCommand(t, "touch", file)) },
		"no such directory": func() error {
			c := helperCommand(t, "touch", file)
			c.Dir = filepath.Join(t.TempDir(), "nonexistent")
			err := v.Run(context.Background(), c)
			var exit *ExitError
			if errors.As(err, &exit) || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(fmt.Sprint(err), "cannot run it in "+c.Dir+": the directory does not exist") {
				t.Errorf("error %v, want one that says the directory does not exist", err)
			}
			return err
		},
		"a directory that is a file": func() error {
			c := helperCommand(t, "touch", file)
			c.Dir = sealSeed(t, key)
			err := v.Run(context.Background(), c)
			if !strings.Contains(fmt.Sprint(err), "it is not a directory") {
				t.Errorf("error %v, want one that says it is not a directory", err)
			}
			return err
		},
		"reserved name": func() error {
			reserved, err := Open(sealPath(t, map[string]any{"path": "/tmp/evil"}, key), []*Key{key})
			if err != nil {
				t.Fatal(err)
			}
			return reserved.Run(context.Background(), helperCommand(t, "touch", file))
		},
	} {
		t.Run(name, func(t *testing.T) {
			if err := run(); err == nil {
				t.Error("no error")
			}
			if _, err := os.Stat(file); err == nil {
				t.Fatal("the command ran")
			}
		})
	}
}

// TestRunCmd: RunCmd reports a command's end as Run does, for a child
// without secrets.
func TestRunCmd(t *testing.T) {
	exe := helperCommand(t).Args
	cmd := exec.Command(exe[0], append(exe[1:], "exit", "5")...)
	cmd.Env = []string{"VAULT_TEST_HELPER=1"}
	var exit *ExitError
	if err := RunCmd(cmd); !errors.As(err, &exit) || exit.Code != 5 || !exit.Started {
		t.Errorf("error %v, want status 5", err)
	}
	if err := RunCmd(exec.Command("no-such-command-xyz")); !errors.As(err, &exit) || exit.Code != 127 {
		t.Errorf("error %v, want status 127", err)
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestRunOutputNotWritten: a command that succeeded but whose output could
// not be written (a full disk, a closed pipe) is not a success, masked or
// not, and not an *ExitError whose status 0 would read as one.
func TestRunOutputNotWritten(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealSeed(t, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	for _, unmasked := range []bool{false, true} {
		c := helperCommand(t, "print", "hello")
		c.Stdout, c.Stderr, c.Unmasked = failingWriter{}, io.Discard, unmasked
		err := v.Run(context.Background(), c)
		var exit *ExitError
		if err == nil || errors.As(err, &exit) || !strings.Contains(err.Error(), "writing its output: no space left on device") {
			t.Errorf("unmasked %v: Run = %v (%T), want an error writing its output", unmasked, err, err)
		}
	}
}
