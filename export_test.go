package vault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credvault/vault/internal/githubenv"
	"github.com/google/go-cmp/cmp"
	"github.com/joho/godotenv"
)

// trickyVars are values that break naive exporters: quotes, shell
// metacharacters, line breaks, and lines that look like GitHub env file
// entries or delimiters.
var trickyVars = map[string]string{
	"SINGLE":    "it's a 'quoted' value",
	"DOUBLE":    `say "hi"`,
	"DOLLAR":    "$HOME ${HOME} $(touch pwned) `touch pwned2`",
	"BACKSLASH": `C:\path\to\n\file\\ x`,
	"MULTILINE": "-----BEGIN KEY-----\nMIIEpA\n-----END KEY-----",
	"TRAILING":  "ends with newlines\n\n",
	"CRLF":      "windows\r\nline",
	"EMPTY":     "",
	"UNICODE":   "pässwörd 🔑 日本",
	"EOF_LINE":  "first\nEOF\nINJECTED=1",
	"DELIM":     "x\nghadelimiter_00000000-0000-0000-0000-000000000000\nEVIL<<EOF\nboom\nEOF",
	"ASSIGN":    "NAME=x\nBASH_ENV=/tmp/evil",
	"DASH":      "-n",
	"PERCENT":   "100%AZP25 %25 %0A",
	"SPACES":    "  padded  ",
}

// readShellVars sources out with shell and prints the named variables
// NUL-separated, as the shell holds them.
func readShellVars(t *testing.T, shell, out string, names []string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "vars.sh")
	if err := os.WriteFile(script, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	var probe strings.Builder
	probe.WriteString(". " + script + "\n")
	for _, n := range names {
		fmt.Fprintf(&probe, "printf '%%s\\0' \"$%s\"\n", n)
	}
	cmd := exec.Command(shell, "-c", probe.String())
	cmd.Dir = dir
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", shell, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%s ran something from a value: the directory holds %d files", shell, len(entries))
	}
	values := strings.Split(string(got), "\x00")
	vars := map[string]string{}
	for i, n := range names {
		vars[n] = values[i]
	}
	return vars
}

func TestExportShellRoundTrip(t *testing.T) {
	var out bytes.Buffer
	if err := ExportShell(&out, trickyVars); err != nil {
		t.Fatal(err)
	}
	for _, shell := range []string{"bash", "dash", "zsh", "sh"} {
		t.Run(shell, func(t *testing.T) {
			path, err := exec.LookPath(shell)
			if err != nil {
				if shell == "zsh" {
					t.Skip("zsh is not installed")
				}
				t.Fatalf("%s: %v", shell, err)
			}
			got := readShellVars(t, path, out.String(), sortedNames(trickyVars))
			if diff := cmp.Diff(trickyVars, got); diff != "" {
				t.Errorf("values through %s (-want +got):\n%s", shell, diff)
			}
		})
	}
}

// parseGitHubEnv parses an env file by the runner's rules (ci-platforms.md
// §3), failing the test if the file breaks them.
func parseGitHubEnv(t testing.TB, file string) (map[string]string, []string) {
	t.Helper()
	vars, delims, err := githubenv.Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	return vars, delims
}

// unescapeGitHubData undoes a workflow command's data escapes.
func unescapeGitHubData(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(s)
}

func TestGitHubExporter(t *testing.T) {
	var stdout, envFile bytes.Buffer
	if err := GitHubExporter(&envFile)(&stdout, trickyVars); err != nil {
		t.Fatal(err)
	}
	// Exactly the entries, nothing injected.
	parsed, delims := parseGitHubEnv(t, envFile.String())
	if diff := cmp.Diff(trickyVars, parsed); diff != "" {
		t.Errorf("env file (-want +got):\n%s", diff)
	}
	// Every non-empty value and every non-empty line of one is masked, and
	// stdout holds nothing but mask commands.
	masks := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		data, ok := strings.CutPrefix(line, "::add-mask::")
		if !ok {
			t.Fatalf("stdout line %q is not a mask command", line)
		}
		masks[unescapeGitHubData(data)] = true
	}
	for name, v := range trickyVars {
		if masks[v] != IsMaskable(v) {
			t.Errorf("the value of %s: masked %v, but the masking rule says %v", name, masks[v], IsMaskable(v))
		}
		if !strings.ContainsAny(v, "\r\n") {
			continue
		}
		for _, line := range strings.Split(v, "\n") {
			if l := strings.TrimSpace(line); masks[l] != IsMaskable(l) {
				t.Errorf("line %q of %s: masked %v, but the masking rule says %v", l, name, masks[l], IsMaskable(l))
			}
		}
	}
	// Each entry has its own random delimiter.
	seen := map[string]bool{}
	for _, d := range delims {
		if seen[d] || !strings.HasPrefix(d, "ghadelimiter_") || len(d) != len("ghadelimiter_")+32 {
			t.Errorf("delimiter %q is reused or not random", d)
		}
		seen[d] = true
	}
	if len(delims) != len(trickyVars) {
		t.Errorf("%d delimiters for %d entries", len(delims), len(trickyVars))
	}
}

func TestExportAzure(t *testing.T) {
	var out bytes.Buffer
	err := ExportAzure(&out, map[string]string{"A": "100%AZP25 x", "B": "semi;colon]bracket"})
	if err != nil {
		t.Fatal(err)
	}
	want := "##vso[task.setvariable variable=A;issecret=true]100%AZP25AZP25 x\n##vso[task.setvariable variable=B;issecret=true]semi;colon]bracket\n"
	if got := strings.Join(slices.DeleteFunc(strings.SplitAfter(out.String(), "\n"), func(l string) bool {
		return strings.HasPrefix(l, "##vso[task.setsecret]")
	}), ""); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	out.Reset()
	err = ExportAzure(&out, map[string]string{"A": "ok", "SSH_KEY": "-----BEGIN\nsecret-line\n-----END"})
	if err == nil || !strings.Contains(err.Error(), "SSH_KEY holds a line break, and Azure Pipelines refuses multi-line secrets") {
		t.Fatalf("a multi-line value: %v", err)
	}
	if out.Len() != 0 {
		t.Error("a refused export wrote a partial result")
	}
	assertNoLeak(t, "error", err.Error(), "secret-line")
}

// azureAgent reads logging commands as the Azure Pipelines agent does: it
// unescapes their data and registers the values of secret variables and of
// setsecret commands; then it masks each line of a step's output with
// them, longest first. It derives no form of its own.
type azureAgent struct {
	secrets []string
}

func (a *azureAgent) run(t *testing.T, stdout string) {
	t.Helper()
	unescape := strings.NewReplacer("%3B", ";", "%0D", "\r", "%0A", "\n", "%5D", "]")
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		cmd, data, ok := strings.Cut(strings.TrimPrefix(line, "##vso["), "]")
		if !ok || !strings.HasPrefix(line, "##vso[") {
			t.Fatalf("stdout line %q is not a logging command", line)
		}
		if cmd == "task.setsecret" || strings.HasPrefix(cmd, "task.setvariable ") && strings.HasSuffix(cmd, ";issecret=true") {
			a.secrets = append(a.secrets, strings.ReplaceAll(unescape.Replace(data), "%AZP25", "%"))
		}
	}
}

func (a *azureAgent) mask(line string) string {
	secrets := slices.Clone(a.secrets)
	slices.SortFunc(secrets, func(x, y string) int { return len(y) - len(x) })
	for _, s := range secrets {
		line = strings.ReplaceAll(line, s, "***")
	}
	return line
}

// TestExportAzureRegistersForms: in a simulated Azure job, the agent masks
// the forms of each secret that the GitHub runner is told to mask, and
// those it derives itself: the value without its surrounding whitespace,
// its encodings and escapings; none of a value declared not secret.
func TestExportAzureRegistersForms(t *testing.T) {
	vars := map[string]string{
		"HOST":     "  h0st.example  ",
		"PASSWORD": `Xk9'mP"q2zR&<>%AZP25 ;]`,
		"UNICODE":  "pässwörd 🔑 日本",
		"LONG":     strings.Repeat("0123456789abcdef-", 8),
		"STEP":     "3",
	}
	var stdout bytes.Buffer
	if err := ExportAzure(&stdout, vars); err != nil {
		t.Fatal(err)
	}
	var agent azureAgent
	agent.run(t, stdout.String())
	for _, form := range []string{"h0st.example", "++h0st.example++", `\ \ h0st.example\ \ `} {
		if !slices.Contains(agent.secrets, form) {
			t.Errorf("%q is not registered", form)
		}
	}
	var github, envFile bytes.Buffer
	if err := GitHubExporter(&envFile)(&github, vars); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(github.String(), "\n"), "\n") {
		form := unescapeGitHubData(strings.TrimPrefix(line, "::add-mask::"))
		if !slices.Contains(agent.secrets, form) {
			t.Errorf("GitHub masks %q, Azure not", form)
		}
	}
	for name, v := range vars {
		for _, form := range maskedForms([]string{v}) {
			for _, line := range strings.Split(form, "\n") {
				if got := agent.mask("log: " + line + " end"); got != "log: *** end" && len(line) >= MinSecretLen {
					t.Errorf("the form %q of %s: the agent logs %q", line, name, got)
				}
			}
		}
	}
	if slices.Contains(agent.secrets, "3") {
		t.Error(`"3" is registered as a secret`)
	}
}

func TestExportJSON(t *testing.T) {
	var out bytes.Buffer
	if err := ExportJSON(&out, trickyVars); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(trickyVars, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	if !strings.Contains(out.String(), `"DOLLAR": "$HOME`) || strings.Contains(out.String(), `\u003c`) {
		t.Errorf("unexpected JSON layout:\n%s", out.String())
	}
}

// dotenvVars are the tricky values dotenv can carry (all but DOLLAR, a "$"
// a parser would expand, and DOUBLE, which ends with a quote), and a few
// more.
func dotenvVars(t *testing.T) map[string]string {
	vars := map[string]string{
		"LONE_DOLLAR":  "costs 5$ or $ 5 or $-5, or $",
		"QUOTE_INSIDE": `say "hi" twice, \"escaped\" too`,
	}
	for n, v := range trickyVars {
		if ExportDotenv(io.Discard, map[string]string{n: v}) == nil {
			vars[n] = v
		}
	}
	if len(vars) != len(trickyVars) {
		t.Fatalf("%d tricky values refused, want 2 (DOLLAR, DOUBLE)", len(trickyVars)+2-len(vars))
	}
	return vars
}

// TestExportDotenvWithGodotenv reads the dotenv output back with
// joho/godotenv, the Go parser the README names.
func TestExportDotenvWithGodotenv(t *testing.T) {
	vars := dotenvVars(t)
	var out bytes.Buffer
	if err := ExportDotenv(&out, vars); err != nil {
		t.Fatal(err)
	}
	parsed, err := godotenv.Unmarshal(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(vars, parsed); diff != "" {
		t.Errorf("godotenv read back (-want +got):\n%s", diff)
	}
}

// TestExportDotenvRefusesWhatParsersChange: values that python-dotenv or
// godotenv would read back changed are refused, not written.
func TestExportDotenvRefusesWhatParsersChange(t *testing.T) {
	for v, says := range map[string]string{
		`ends with \`:        "ends with a backslash",
		`say "hi"`:           "ends with a double quote, which godotenv reads back without it",
		`costs \$ 5`:         `holds a backslash before a "$" (at byte 7), which godotenv drops`,
		"$HOME":              `holds a "$" that dotenv parsers would expand`,
		`a\"b`:               "",
		`say "hi" and leave`: "",
	} {
		err := ExportDotenv(io.Discard, map[string]string{"V": v})
		if says == "" {
			if err != nil {
				t.Errorf("%q: %v", v, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%q: %v, want an error saying %q", v, err, says)
		}
	}
}

func TestExportDotenvWithPythonDotenv(t *testing.T) {
	vars := dotenvVars(t)
	var out bytes.Buffer
	if err := ExportDotenv(&out, vars); err != nil {
		t.Fatal(err)
	}
	err := exec.Command(systemPython, "-c", "import dotenv").Run()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s cannot import dotenv: install python3-dotenv", systemPython)
		}
		t.Skip("python3-dotenv is not installed")
	}
	path := filepath.Join(t.TempDir(), "vars.env")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	got := runPython(t, `
import json, os, sys
from dotenv import dotenv_values
sys.stdout.write(json.dumps(dotenv_values(os.environ["ENV_FILE"])))
`, "ENV_FILE="+path)
	var parsed map[string]string
	if err := json.Unmarshal(got, &parsed); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(vars, parsed); diff != "" {
		t.Errorf("python-dotenv read back (-want +got):\n%s", diff)
	}
}

func TestExportDotenvRefusesAmbiguous(t *testing.T) {
	var out bytes.Buffer
	err := ExportDotenv(&out, map[string]string{"A": "fine", "P": "it's $5-secret"})
	if err == nil || !strings.Contains(err.Error(), `P holds a "$" that dotenv parsers would expand as a variable (at byte 6)`) {
		t.Fatalf("error %v", err)
	}
	if out.Len() != 0 {
		t.Error("a refused export wrote a partial result")
	}
	assertNoLeak(t, "error", err.Error(), "$5-secret")
}

func TestExportersCheckNames(t *testing.T) {
	exporters := map[string]Exporter{
		"shell": ExportShell, "dotenv": ExportDotenv, "json": ExportJSON, "azure": ExportAzure, "gitlab": ExportGitLab,
		"github": GitHubExporter(&bytes.Buffer{}),
	}
	for name, export := range exporters {
		for _, vars := range []map[string]string{{"BAD-NAME": "x"}, {"A<<B": "x"}, {"NUL": "a\x00b"}, {"": "x"}} {
			var out bytes.Buffer
			if err := export(&out, vars); err == nil || out.Len() != 0 {
				t.Errorf("%s exported %q: %v, %d bytes", name, vars, err, out.Len())
			}
		}
	}
}

// parseShellExports parses ExportShell's output by POSIX quoting rules, for
// the fuzz test, where starting a shell per input would be too slow; the
// round trip through real shells is TestExportShellRoundTrip.
func parseShellExports(t testing.TB, out string) map[string]string {
	vars := map[string]string{}
	for len(out) > 0 {
		rest, ok := strings.CutPrefix(out, "export ")
		if !ok {
			t.Fatalf("a line does not start with export")
		}
		name, rest, ok := strings.Cut(rest, "=")
		if !ok || !isEnvName(name) {
			t.Fatalf("bad name %q", name)
		}
		var value strings.Builder
		for {
			if !strings.HasPrefix(rest, "'") {
				t.Fatalf("value of %s is not single-quoted", name)
			}
			end := strings.IndexByte(rest[1:], '\'')
			if end < 0 {
				t.Fatalf("unterminated quote in %s", name)
			}
			value.WriteString(rest[1 : 1+end])
			rest = rest[end+2:]
			if q, ok := strings.CutPrefix(rest, `\'`); ok {
				value.WriteByte('\'')
				rest = q
				continue
			}
			break
		}
		if !strings.HasPrefix(rest, "\n") {
			t.Fatalf("junk after the value of %s", name)
		}
		vars[name] = value.String()
		out = rest[1:]
	}
	return vars
}

// FuzzExport: a random document, flattened, exports as shell and for GitHub
// either with an error or so that it parses back to exactly the variables.
func FuzzExport(f *testing.F) {
	f.Add(`{"a": "x", "b": {"c": "multi\nline"}}`)
	f.Add(`{"p": "it's", "q": "EOF\nX=1", "r": ["ghadelimiter_1\n", "%0A"]}`)
	f.Add(`{"a_b": 1, "a": {"b": 2}}`)
	f.Add(`{"path": "/bin"}`)
	f.Fuzz(func(t *testing.T, doc string) {
		secrets, err := ParseJSON([]byte(doc))
		if err != nil {
			return
		}
		vars, err := Flatten(secrets, "")
		if err != nil {
			return
		}
		var shell bytes.Buffer
		if err := ExportShell(&shell, vars); err == nil {
			if diff := cmp.Diff(vars, parseShellExports(t, shell.String())); diff != "" && len(vars) > 0 {
				t.Errorf("shell round trip (-want +got):\n%s", diff)
			}
		}
		var stdout, envFile bytes.Buffer
		if err := GitHubExporter(&envFile)(&stdout, vars); err == nil {
			got, _ := parseGitHubEnv(t, envFile.String())
			if diff := cmp.Diff(vars, got); diff != "" && len(vars) > 0 {
				t.Errorf("GitHub round trip (-want +got):\n%s", diff)
			}
		}
	})
}

// TestEscapeData: the runners' data escaping, as strings.Replacer would
// do it, on every mix of "%", "\r", "\n" and other bytes up to 6 long.
func TestEscapeData(t *testing.T) {
	alphabet := []string{"%", "\r", "\n", "a", "é"}
	for _, percent := range []string{"%25", "%AZP25"} {
		rep := strings.NewReplacer("%", percent, "\r", "%0D", "\n", "%0A")
		var walk func(s string)
		walk = func(s string) {
			if got, want := escapeData(s, percent), rep.Replace(s); got != want {
				t.Fatalf("escapeData(%q, %q) = %q, want %q", s, percent, got, want)
			}
			if len(s) < 6 {
				for _, c := range alphabet {
					walk(s + c)
				}
			}
		}
		walk("")
	}
}
