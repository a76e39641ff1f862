package main

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"

	"github.com/credvault/vault/internal/githubenv"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"credvault": realMain,
	}))
}

// TestScripts runs the txtar scripts in testdata/script: each runs the real
// command and asserts its stdout, stderr, exit status and files.
func TestScripts(t *testing.T) {
	kms := scriptKMS(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":      cmdExits,
			"mode":       cmdMode,
			"files":      cmdFiles,
			"github-env": cmdGitHubEnv,
			"noplain":    cmdNoPlain,
			"local-kms":  kms.cmd,
			"envfile":    cmdEnvFile,
		},
		Setup:     setupCustody,
		Condition: kms.condition,
	})
}

// exits CODE PROGRAM ARGS... runs PROGRAM like exec and asserts its exit
// status, so that scripts can tell a usage error (2) from a failure (1).
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// mode FILE PERM asserts a file's permission bits, e.g. "mode master.key 0600".
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode FILE PERM")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	if err != nil {
		ts.Fatalf("mode: bad permission %q", args[1])
	}
	info, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := uint64(info.Mode().Perm()); (got == want) == neg {
		ts.Fatalf("%s has mode %04o, want %s%04o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// files DIR NAME... asserts that DIR holds exactly the named entries, so
// that a script can check no temporary or output file was left behind.
// testscript's own .tmp directory is not counted.
func cmdFiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: files DIR [NAME...]")
	}
	entries, err := os.ReadDir(ts.MkAbs(args[0]))
	ts.Check(err)
	var got []string
	for _, e := range entries {
		if e.Name() != ".tmp" {
			got = append(got, e.Name())
		}
	}
	want := slices.Clone(args[1:])
	slices.Sort(want)
	if !slices.Equal(got, want) {
		ts.Fatalf("%s holds %q, want %q", args[0], got, want)
	}
}

// github-env FILE does what the GitHub Actions runner does with $GITHUB_ENV
// between steps: it parses FILE by the runner's rules and sets the variables
// for the commands that follow.
func cmdGitHubEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: github-env FILE")
	}
	vars, _, err := githubenv.Parse(ts.ReadFile(args[0]))
	ts.Check(err)
	for name, value := range vars {
		ts.Setenv(name, value)
	}
}

// TestTrimLineEnd: set drops the one line ending of a single-line value and
// keeps everything else byte for byte.
func TestTrimLineEnd(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v\n", "v"},
		{"v\r\n", "v"},
		{"v", "v"},
		{"v\r", "v\r"},
		{"v\n\n", "v\n\n"},
		{"\n", ""},
		{"", ""},
		{"a\nb", "a\nb"},
		{"a\nb\n", "a\nb\n"},
		{"-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n", "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n"},
		{"a\r\nb\r\n", "a\r\nb\r\n"},
		{" v \n", " v "},
	}
	for _, tt := range tests {
		if got := string(trimLineEnd([]byte(tt.in))); got != tt.want {
			t.Errorf("trimLineEnd(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
