package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// completionVault makes a directory holding a vault and returns it with
// the environment in which its key is at hand.
func completionVault(t *testing.T) (dir string, env []string) {
	t.Helper()
	const key = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
	dir = t.TempDir()
	secrets := `{"database": {"host": "db.example.com", "password": "s3cret!P@ss"}, "deploy": {"token": "t0ken-value"}}`
	if err := os.WriteFile(filepath.Join(dir, "secrets.json"), []byte(secrets), 0o600); err != nil {
		t.Fatal(err)
	}
	env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "MASTER_KEY=" + key, "TERM=dumb"}
	seal := exec.Command("credvault", "seal", "-audit", os.DevNull, "secrets.json")
	seal.Dir, seal.Env = dir, env
	if out, err := seal.CombinedOutput(); err != nil {
		t.Fatalf("seal: %v\n%s", err, out)
	}
	if err := os.Remove(filepath.Join(dir, "secrets.json")); err != nil {
		t.Fatal(err)
	}
	return dir, env
}

// requireTool returns the path of a program the test runs (a shell, groff),
// or skips the test without it; with CI set it fails instead: .ci/run
// installs them.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is not installed: install Debian's %s (.ci/run does)", name, name)
		}
		t.Skipf("%s is not installed", name)
	}
	return path
}

// runShell runs a shell script in dir with env and returns its stdout.
func runShell(t *testing.T, dir string, env []string, shell string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard, not a timing
	defer cancel()
	cmd := exec.CommandContext(ctx, shell, args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", shell, err, out, stderr.String())
	}
	return string(out)
}

// The completions each shell must offer, for what was typed before the Tab.
var completionCases = []struct {
	typed string
	want  []string
}{
	{"credvault ge", []string{"get"}},
	{"credvault s", []string{"seal", "set", "show", "status"}},
	{"credvault comp", []string{"completion"}},
	{"credvault get d", []string{"database.host", "database.password", "deploy.token"}},
	{"credvault get -vault credentials.enc data", []string{"database.host", "database.password"}},
	{"credvault get -vault nosuch.enc data", nil},
	{"credvault get -key-env NO_SUCH_KEY data", nil},
	{"credvault env -format ", []string{"azure", "dotenv", "github", "gitlab", "json", "shell"}},
	{"credvault env -fo", []string{"-format"}},
	{"credvault env -path ", []string{"database", "deploy"}},
	{"credvault get -vault cred", []string{"credentials.enc"}},
	{"credvault help st", []string{"status"}},
	{"credvault completion ", []string{"bash", "fish", "zsh"}},
}

func TestCompletionBash(t *testing.T) {
	bash := requireTool(t, "bash")
	dir, env := completionVault(t)
	script := `set -u
source <(credvault completion bash)
complete -p credvault
# try WORDS...: what the Tab after WORDS offers, as bash calls the function.
try() {
	COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_credvault credvault "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd ' ' | sed 's/^/> /'
}
`
	for _, tt := range completionCases {
		words := strings.Fields(tt.typed)
		if strings.HasSuffix(tt.typed, " ") {
			words = append(words, "")
		}
		script += "try" + shellWords(words) + "\n"
	}
	// Bash splits "-format=js" at the "=": it sees -format, =, js.
	script += "try credvault env -format = js\n"
	script += "try credvault exec credv\n"
	out := runShell(t, dir, env, bash, "--norc", "--noprofile", "-c", script)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if lines[0] != "complete -F _credvault credvault" {
		t.Errorf("complete -p credvault = %q", lines[0])
	}
	var got [][]string
	for _, l := range lines[1:] {
		got = append(got, strings.Fields(strings.TrimPrefix(l, ">")))
	}
	var want [][]string
	for _, tt := range completionCases {
		want = append(want, tt.want)
	}
	want = append(want, []string{"json"}, []string{"credvault"})
	if diff := cmp.Diff(want, got, cmpNilEmpty); diff != "" {
		t.Errorf("bash completions (-want +got):\n%s", diff)
	}
}

func TestCompletionZsh(t *testing.T) {
	zsh := requireTool(t, "zsh")
	dir, env := completionVault(t)
	fpath := filepath.Join(dir, "zfunc")
	if err := os.Mkdir(fpath, 0o700); err != nil {
		t.Fatal(err)
	}
	script := runShell(t, dir, env, "credvault", "completion", "zsh")
	if err := os.WriteFile(filepath.Join(fpath, "_credvault"), []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	// A real interactive zsh on a pseudo-terminal (zsh/zpty), with compinit
	// loading _credvault from $fpath as an installed completion is. Tab is
	// bound to a widget that completes, then marks the end of the case;
	// compadd is wrapped to record what it is given. Every step waits for
	// the shell's own output, never for a time.
	driver := `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='<PRO''MPT>'; fpath=(` + fpath + ` \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'compadd() { local -a got; builtin compadd -O got "$@"; print -rl -- $got >> candidates; builtin compadd "$@" }'
zpty -w z 'tab() { zle complete-word; print -- "<END>" >> candidates; print -n "<DO""NE>" }; zle -N tab; bindkey "^I" tab; echo RE""ADY'
zpty -r z line '*READY*<PROMPT>*'
for typed in "$@"; do
	zpty -w -n z "$typed"$'\t'
	zpty -r z line '*<DONE>*'
	zpty -w -n z $'\C-u'
done
zpty -d z
`
	if err := os.WriteFile(filepath.Join(dir, "driver.zsh"), []byte(driver), 0o600); err != nil {
		t.Fatal(err)
	}
	var typed []string
	for _, tt := range completionCases {
		typed = append(typed, tt.typed)
	}
	runShell(t, dir, env, zsh, append([]string{"-f", "driver.zsh"}, typed...)...)
	recorded, err := os.ReadFile(filepath.Join(dir, "candidates"))
	if err != nil {
		t.Fatal(err)
	}
	cases := strings.Split(string(recorded), "<END>\n")
	if len(cases) != len(completionCases)+1 {
		t.Fatalf("zsh recorded %d cases, want %d:\n%s", len(cases)-1, len(completionCases), recorded)
	}
	for i, tt := range completionCases {
		got := strings.Fields(cases[i])
		slices.Sort(got)
		got = slices.Compact(got) // _describe adds its matches twice
		if diff := cmp.Diff(tt.want, got, cmpNilEmpty); diff != "" {
			t.Errorf("zsh completions of %q (-want +got):\n%s", tt.typed, diff)
		}
	}
}

func TestCompletionFish(t *testing.T) {
	fish := requireTool(t, "fish")
	dir, env := completionVault(t)
	script := "credvault completion fish | source\n"
	for _, tt := range completionCases {
		script += "set found (complete -C" + shellWords([]string{tt.typed}) + " | string replace -r '\\t.*' '' | sort); echo \"> $found\"\n"
	}
	script += "set found (complete -C 'credvault env -format=js' | string replace -r '\\t.*' ''); echo \"> $found\"\n"
	out := runShell(t, dir, env, fish, "--no-config", "-c", script)
	var got [][]string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		got = append(got, strings.Fields(strings.TrimPrefix(l, ">")))
	}
	var want [][]string
	for _, tt := range completionCases {
		want = append(want, tt.want)
	}
	want = append(want, []string{"-format=json"})
	if diff := cmp.Diff(want, got, cmpNilEmpty); diff != "" {
		t.Errorf("fish completions (-want +got):\n%s", diff)
	}
}

var cmpNilEmpty = cmp.Transformer("nilEmpty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

// shellWords quotes words for sh, bash, zsh and fish alike, with a space
// before each.
func shellWords(words []string) string {
	var b strings.Builder
	for _, w := range words {
		b.WriteString(" '" + strings.ReplaceAll(w, "'", `'\''`) + "'")
	}
	return b.String()
}
