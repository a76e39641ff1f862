package main

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A flagProbe shows that a command uses a flag its help lists: the command
// line with the flag does what want says, and the same line without it
// does not.
type flagProbe struct {
	args  []string // the command line without the flag; nil: the command's base line
	flag  []string // the flag and its value, put after the command's name
	stdin string
	env   []string
	then  []string // a command whose output is checked instead, after the first
	git   bool     // run in a git repository
	fresh bool     // run where there is no vault yet
	// want is "exit N", "file NAME" (NAME exists afterwards), "grep FILE
	// REGEXP", or a regexp that the output (stdout and stderr) matches; or,
	// after a "!", that it does not match.
	want string
}

// baseLines are command lines that work on the probe directory; a flag
// probe without args of its own adds its flag to them.
var baseLines = map[string]flagProbe{
	"keygen":     {args: []string{"keygen"}},
	"seal":       {args: []string{"seal", "-force", "secrets.json"}},
	"get":        {args: []string{"get", "database.password"}},
	"show":       {args: []string{"show"}},
	"set":        {args: []string{"set", "database.password"}, stdin: "new-value"},
	"unset":      {args: []string{"unset", "database.host"}},
	"edit":       {args: []string{"edit"}, env: []string{"EDITOR=true", "VISUAL=true"}},
	"rotate":     {args: []string{"rotate", "-new-key-file", "new.key"}},
	"status":     {args: []string{"status"}},
	"env":        {args: []string{"env"}},
	"exec":       {args: []string{"exec", "env"}},
	"textconv":   {args: []string{"textconv", "credentials.enc"}},
	"merge":      {args: []string{"merge", "credentials.enc", "credentials.enc", "credentials.enc"}},
	"init":       {args: []string{"init"}, git: true, fresh: true},
	"recipients": {args: []string{"recipients", "add", probeRecipient}},
}

// commonProbes show the use of the flags many commands share.
var commonProbes = map[string]flagProbe{
	"vault":    {flag: []string{"-vault", "probe.enc"}, want: `probe\.enc`},
	"key-env":  {flag: []string{"-key-env", "PROBE_KEY"}, want: `PROBE_KEY`},
	"key-file": {flag: []string{"-key-file", "probe.key"}, want: `probe\.key`},
	"audit":    {flag: []string{"-audit", "probe.jsonl"}, want: "file probe.jsonl"},
	"max-age":  {flag: []string{"-max-age", "1ns"}, want: `older than the maximum age|EXPIRED`},
	"env":      {flag: []string{"-env", "probe"}, want: `credentials\.probe\.enc|MASTER_KEY_PROBE`},
	// The other routes to the key: a key command instead of $MASTER_KEY,
	// a pin no key matches, an identity file that is not there, a key
	// command stopped at once.
	"key-cmd":         {flag: []string{"-key-cmd", "printf %s " + probeKey}, env: []string{"MASTER_KEY="}, want: `!no key for`},
	"key-fingerprint": {flag: []string{"-key-fingerprint", "000000000000"}, want: `pinned fingerprint 000000000000`},
	"identity":        {flag: []string{"-identity", "probe-id.txt"}, want: `age identity file probe-id\.txt does not exist`},
	"key-timeout":     {flag: []string{"-key-timeout", "1ns"}, env: []string{"MASTER_KEY=", "CREDVAULT_KEY_CMD=printf %s " + probeKey}, want: `did not finish within 1ns`},
}

// commandProbes show the use of each command's own flags, by "command -flag".
var commandProbes = map[string]flagProbe{
	"keygen -o":            {flag: []string{"-o", "probe.key"}, want: "file probe.key"},
	"seal -force":          {args: []string{"seal", "secrets.json"}, flag: []string{"-force"}, want: "exit 0"},
	"get -raw":             {args: []string{"get", "database.password"}, flag: []string{"-raw"}, want: `s3cret!P@ss\z`},
	"set -allow-empty":     {args: []string{"set", "database.password"}, flag: []string{"-allow-empty"}, want: "exit 0"},
	"set -force":           {args: []string{"set", "database"}, stdin: "flat", flag: []string{"-force"}, want: "exit 0"},
	"set -json":            {args: []string{"set", "database.port"}, stdin: "5432", flag: []string{"-json"}, then: []string{"show"}, want: `"port": ?5432`},
	"set -raw":             {args: []string{"set", "database.password"}, stdin: "raw-value\n", flag: []string{"-raw"}, then: []string{"show"}, want: `raw-value\\n`},
	"unset -force":         {args: []string{"unset", "database"}, flag: []string{"-force"}, want: "exit 0"},
	"rotate -new-key-file": {args: []string{"rotate"}, flag: []string{"-new-key-file", "new.key"}, want: "to key " + probeNewKeyFingerprint},
	"rotate -new-key-env":  {args: []string{"rotate"}, env: []string{"NEW_KEY=" + probeNewKey}, flag: []string{"-new-key-env", "NEW_KEY"}, want: "to key " + probeNewKeyFingerprint},
	"status -names":        {flag: []string{"-names"}, want: `database\.password`},
	"env -prefix":          {flag: []string{"-prefix", "PROBE_"}, want: `PROBE_DATABASE_PASSWORD`},
	"env -path":            {flag: []string{"-path", "database"}, want: `(?m)^export PASSWORD=`},
	"env -format":          {flag: []string{"-format", "json"}, want: `(?m)^\{`},
	"env -allow-reserved":  {args: []string{"env", "-prefix", "GITHUB_"}, flag: []string{"-allow-reserved"}, want: "exit 0"},
	"exec -prefix":         {flag: []string{"-prefix", "PROBE_"}, want: `(?m)^PROBE_DATABASE_PASSWORD=`},
	"exec -path":           {flag: []string{"-path", "database"}, want: `(?m)^PASSWORD=`},
	"exec -allow-reserved": {args: []string{"exec", "-prefix", "GITHUB_", "env"}, flag: []string{"-allow-reserved"}, want: "exit 0"},
	"exec -no-mask":        {flag: []string{"-no-mask"}, want: `(?m)^DATABASE_PASSWORD=s3cret!P@ss$`},
	"env -not-secret":      {args: []string{"env", "-format", "github"}, env: []string{"GITHUB_ENV=github_env"}, flag: []string{"-not-secret", "database.host"}, want: `!::add-mask::db\.example\.com`},
	"exec -not-secret":     {flag: []string{"-not-secret", "database.host"}, want: `(?m)^DATABASE_HOST=db\.example\.com$`},
	// textconv shows what it cannot open as a placeholder, and exits 0.
	"textconv -key-cmd":     {flag: []string{"-key-cmd", "printf %s " + probeKey}, env: []string{"MASTER_KEY="}, want: `db\.example\.com`},
	"textconv -key-timeout": {flag: []string{"-key-timeout", "1ns"}, env: []string{"MASTER_KEY=", "CREDVAULT_KEY_CMD=printf %s " + probeKey}, want: `!db\.example\.com`},
	"seal -recipient":       {args: []string{"seal", "-force", "secrets.json"}, flag: []string{"-recipient", probeRecipient}, want: "grep credentials.enc.keys " + probeRecipient},
	"recipients -label":     {flag: []string{"-label", "probe-label"}, then: []string{"recipients"}, want: `probe-label`},
	"git-setup -env":        {args: []string{"git-setup"}, git: true, flag: []string{"-env", "probe"}, want: `grep .gitattributes credentials\.probe\.enc`},
	"init -recipient":       {args: []string{"init"}, git: true, fresh: true, flag: []string{"-recipient", "age1lt0zx9cl334fz2uz5zxkauwnjmfj2a2lpllehq2fwe3meacgd57shqg3zh"}, want: "file credentials.enc.keys"},
}

const (
	// probeRecipient is an age recipient the probe vault's recipients file
	// (testdata/probe-2017.enc.keys, wrapping probeKey for another) lacks.
	probeRecipient = "age1cgda5d4jfrypahulq8ukdyrd0avkupk4pk6jw0quhrvkrh9pjvyqar6js9"
	probeKey       = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
	probeNewKey    = "Zq0m4Ymnv6M8g-x7ZbxJXmmvv0FgQBrDwmMVNwZG1ww="
	// probeNewKeyFingerprint is probeNewKey's: without a new key flag,
	// rotate makes one of its own for the recipients file.
	probeNewKeyFingerprint = "3b34198dd09a"
)

// TestHelpFlagsUsed checks that help is true: each flag that a command's
// help lists is accepted and makes a difference, shown by a probe. A new
// flag or command needs a probe here (or a base line for the shared flags).
func TestHelpFlagsUsed(t *testing.T) {
	for _, cmd := range commands() {
		if cmd.hidden {
			continue
		}
		fs, _ := cmd.flags(&cli{getenv: func(string) string { return "" }})
		fs.VisitAll(func(f *flag.Flag) {
			t.Run(cmd.name+"_-"+f.Name, func(t *testing.T) {
				p, ok := commandProbes[cmd.name+" -"+f.Name]
				if !ok {
					p, ok = commonProbes[f.Name]
				}
				if !ok {
					t.Fatalf("no probe shows that %s uses -%s: add one to commandProbes", cmd.name, f.Name)
				}
				base, hasBase := baseLines[cmd.name]
				if p.args == nil {
					if !hasBase {
						t.Fatalf("no base command line for %s: add one to baseLines", cmd.name)
					}
					p.args, p.env = base.args, append(base.env, p.env...)
					p.git, p.fresh = p.git || base.git, p.fresh || base.fresh
					if p.stdin == "" {
						p.stdin = base.stdin
					}
				}
				with := append(append([]string{p.args[0]}, p.flag...), p.args[1:]...)
				if p.matches(t, with) != true {
					t.Errorf("credvault %s: does not show the effect of %s (%s)", strings.Join(with, " "), p.flag[0], p.want)
				}
				if p.matches(t, p.args) != false {
					t.Errorf("credvault %s: shows %q without %s: the probe proves nothing", strings.Join(p.args, " "), p.want, p.flag[0])
				}
			})
		})
	}
}

// matches runs args in a fresh probe directory and reports whether the
// outcome is what p wants.
func (p flagProbe) matches(t *testing.T, args []string) bool {
	t.Helper()
	dir := t.TempDir()
	env := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "MASTER_KEY=" + probeKey}, p.env...)
	// The vault, sealed by Python in 2017 with probeKey, holds what
	// secrets.json does: old enough for any -max-age.
	vault, err := os.ReadFile("testdata/probe-2017.enc")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := os.ReadFile("testdata/probe-2017.enc.keys")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"credentials.enc":      string(vault),
		"credentials.enc.keys": string(keys),
		"secrets.json":         `{"database": {"host": "db.example.com", "password": "s3cret!P@ss"}}`,
		"new.key":              probeNewKey + "\n",
	}
	if p.git {
		if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
	}
	if p.fresh {
		delete(files, "credentials.enc")
		delete(files, "credentials.enc.keys")
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	credvault := func(stdin string, args ...string) (string, int) {
		cmd := exec.Command("credvault", args...)
		cmd.Dir, cmd.Env, cmd.Stdin = dir, env, strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	out, status := credvault(p.stdin, args...)
	if p.then != nil {
		out, _ = credvault("", p.then...)
	}
	kind, arg, _ := strings.Cut(p.want, " ")
	switch kind {
	case "exit":
		return strconv.Itoa(status) == arg
	case "file":
		_, err := os.Stat(filepath.Join(dir, arg))
		return err == nil
	case "grep":
		name, pattern, _ := strings.Cut(arg, " ")
		content, _ := os.ReadFile(filepath.Join(dir, name))
		return regexp.MustCompile(pattern).Match(content)
	}
	if pattern, ok := strings.CutPrefix(p.want, "!"); ok {
		return !regexp.MustCompile(pattern).MatchString(out)
	}
	return regexp.MustCompile(p.want).MatchString(out)
}
