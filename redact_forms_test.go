package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"html"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The masked forms, each checked against the real tool that prints it where
// the tool is on the machine: the tests skip a missing tool, except in CI
// (CI set), where .ci/run installs them.

// formSecrets hold the characters on which the tools differ: URL escapers on
// "!*'()/+~" and space, HTML escapers on quotes, JSON encoders on "<>&",
// control characters and non-ASCII, shell quoting on "'" and "$".
var formSecrets = []string{
	"p@ss w0rd!*'()/+~;:=$&?#",
	`it's "quoted" <b>&amp;</b>`,
	"tab\there\x01é✓😀\u2028end",
	"~home#hash",
}

// tool returns the path of a program, or skips the test without it (fails
// in CI).
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set but %s is not installed", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

// runTool runs a program with the secret on stdin and returns its output,
// without the final newline if strip.
func runTool(t *testing.T, secret string, strip bool, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	cmd.Stdin = strings.NewReader(secret)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, stderr.Bytes())
	}
	if strip {
		out = bytes.TrimSuffix(out, []byte("\n"))
	}
	return string(out)
}

// checkMasked checks that form, alone and between other text, is masked
// whole.
func checkMasked(t *testing.T, m *Masker, form string) {
	t.Helper()
	if got := redactAll(t, m, "before "+form+" after"); got != "before *** after" {
		t.Errorf("%q: output %q, want %q", form, got, "before *** after")
	}
}

func TestMaskURLForms(t *testing.T) {
	m := NewMasker(formSecrets...)
	py := `import sys, urllib.parse as u; s = sys.stdin.read(); print(u.quote(s)); print(u.quote_plus(s)); print(u.quote(s, safe=""))`
	for _, secret := range formSecrets {
		checkMasked(t, m, url.QueryEscape(secret))
		checkMasked(t, m, url.PathEscape(secret))
		t.Run("python", func(t *testing.T) {
			for _, form := range strings.Split(runTool(t, secret, true, systemPython, "-c", py), "\n") {
				checkMasked(t, m, form)
			}
		})
		t.Run("node", func(t *testing.T) {
			checkMasked(t, m, runTool(t, secret, false, "node", "-e", `process.stdout.write(encodeURIComponent(require("fs").readFileSync(0, "utf8")))`))
		})
		t.Run("jq", func(t *testing.T) {
			checkMasked(t, m, runTool(t, secret, true, "jq", "-sRr", "@uri"))
		})
	}
}

func TestMaskHTMLForms(t *testing.T) {
	m := NewMasker(formSecrets...)
	py := `import sys, html; s = sys.stdin.read(); print(html.escape(s)); print(html.escape(s, quote=False))`
	for _, secret := range formSecrets[:2] {
		checkMasked(t, m, html.EscapeString(secret))
		var b bytes.Buffer
		xml.EscapeText(&b, []byte(secret))
		checkMasked(t, m, b.String())
		apos := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(secret)
		checkMasked(t, m, apos)
		t.Run("python", func(t *testing.T) {
			for _, form := range strings.Split(runTool(t, secret, true, systemPython, "-c", py), "\n") {
				checkMasked(t, m, form)
			}
		})
	}
}

func TestMaskJSONForms(t *testing.T) {
	m := NewMasker(formSecrets...)
	inside := func(b []byte) string {
		b = bytes.TrimSpace(b)
		return string(b[1 : len(b)-1])
	}
	py := `import sys, json; s = sys.stdin.read(); print(json.dumps(s)); print(json.dumps(s, ensure_ascii=False))`
	for _, secret := range formSecrets {
		j, _ := json.Marshal(secret)
		checkMasked(t, m, inside(j))
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(secret)
		checkMasked(t, m, inside(b.Bytes()))
		checkMasked(t, m, inside(appendJSONString(nil, secret))) // this package's exporters
		t.Run("python", func(t *testing.T) {
			for _, form := range strings.Split(runTool(t, secret, true, systemPython, "-c", py), "\n") {
				checkMasked(t, m, inside([]byte(form)))
			}
		})
		t.Run("node", func(t *testing.T) {
			checkMasked(t, m, inside([]byte(runTool(t, secret, false, "node", "-e", `process.stdout.write(JSON.stringify(require("fs").readFileSync(0, "utf8")))`))))
		})
	}
}

// TestMaskShellForms: bash's printf %q and its set -x trace of a value
// with a single quote, and this package's shell export.
func TestMaskShellForms(t *testing.T) {
	m := NewMasker(formSecrets...)
	for _, secret := range formSecrets {
		for _, locale := range []string{"C.UTF-8", "C"} {
			t.Run("printf %q in "+locale, func(t *testing.T) {
				q := runTool(t, secret, false, "env", "LC_ALL="+locale, "bash", "-c", `v=$(cat; echo x); printf %q "${v%x}"`)
				checkMasked(t, m, strings.TrimSuffix(strings.TrimPrefix(q, "$'"), "'"))
			})
		}
		t.Run("set -x", func(t *testing.T) {
			trace := runTool(t, secret, false, "bash", "-c", `v=$(cat; echo x); exec 2>&1; set -x; : "${v%x}"`)
			trace = strings.TrimSuffix(strings.TrimPrefix(trace, "+ : "), "\n")
			if got := redactAll(t, m, trace); !strings.HasPrefix(got, "'***'") && got != "***" && !strings.HasPrefix(got, "$'***'") {
				t.Errorf("set -x trace %q: output %q", trace, got)
			}
		})
		var b bytes.Buffer
		if err := ExportShell(&b, map[string]string{"V": secret}); err != nil {
			t.Fatal(err)
		}
		if got := redactAll(t, m, b.String()); got != "export V='***'\n" {
			t.Errorf("export of %q: output %q", secret, got)
		}
	}
}

// TestMaskWrappedBase64: a long secret printed by base64 (76 columns) or
// openssl base64 (64), alone or after 1 or 2 other bytes: every line that
// holds only bits of the secret is masked whole, and the first and last line
// lose their part of it.
func TestMaskWrappedBase64(t *testing.T) {
	secret := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz-", 9) // 333 bytes: 5 lines or more
	m := NewMasker(secret)
	for shift := range 3 {
		input := strings.Repeat("A", shift) + secret
		for _, wrap := range []struct {
			name  string
			width int
			cmd   []string
		}{
			{"base64", 76, []string{"base64"}},
			{"openssl base64", 64, []string{"openssl", "base64"}},
		} {
			t.Run(wrap.name, func(t *testing.T) {
				out := runTool(t, input, true, wrap.cmd[0], wrap.cmd[1:]...)
				if want := wrapBase64(input, wrap.width); out != want {
					t.Fatalf("%s wrote\n%s\nwant\n%s", wrap.name, out, want)
				}
				lines := strings.Split(redactAll(t, m, out), "\n")
				for i, line := range lines {
					switch {
					case i == 0 && shift > 0:
						if !strings.HasSuffix(line, "***") || len(line) > 3+3 {
							t.Errorf("shift %d: first line %q", shift, line)
						}
					case i == len(lines)-1:
						if !strings.HasPrefix(line, "***") {
							t.Errorf("shift %d: last line %q", shift, line)
						}
					default:
						if line != "***" {
							t.Errorf("shift %d: line %d is %q", shift, i, line)
						}
					}
				}
			})
		}
	}
	// Unwrapped, URL-safe and inside a longer encoding, at each alignment.
	for shift := range 3 {
		blob := strings.Repeat("A", shift) + secret + "tail"
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			got := redactAll(t, m, enc.EncodeToString([]byte(blob)))
			if len(got) > 3+3+8 || !strings.Contains(got, "***") {
				t.Errorf("shift %d: unwrapped encoding became %q", shift, got)
			}
		}
	}
}

func wrapBase64(s string, width int) string {
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	var lines []string
	for len(enc) > width {
		lines = append(lines, enc[:width])
		enc = enc[width:]
	}
	return strings.Join(append(lines, enc), "\n")
}

// TestMaskTrimmed: a value with surrounding whitespace is masked where it
// is printed without it.
func TestMaskTrimmed(t *testing.T) {
	m := NewMasker("  padded-secret\n")
	if got := redactAll(t, m, "token=padded-secret;"); got != "token=***;" {
		t.Errorf("got %q", got)
	}
}

// TestMaskingRule: one rule, IsMaskable, for every output: values under
// MinSecretLen bytes without surrounding whitespace, booleans and blank
// values are not masked; everything else is.
func TestMaskingRule(t *testing.T) {
	tests := map[string]bool{
		"3": false, "abc": false, "true": false, "FALSE": false, "  ab  ": false, "    ": false, "": false,
		"deploy": true, "5432": true, "truth": true, " abcd ": true,
	}
	for value, want := range tests {
		if got := IsMaskable(value); got != want {
			t.Errorf("IsMaskable(%q) = %v, want %v", value, got, want)
		}
	}
}

// TestOneMaskingRule: exec's Masker, the GitHub exporter and the Azure
// exporter mask the same values: not "3", "false" or a blank value; values
// declared NotSecret neither, unless the same value is also a secret.
func TestOneMaskingRule(t *testing.T) {
	key := GenerateKey()
	doc := map[string]any{
		"step": "3", "flag": "false", "blank": "    ", "mode": "deploy",
		"db":       map[string]any{"host": "db.example.com", "user": "app_user", "password": "hunter2-secret"},
		"hosts":    []any{"api.example.com", "hunter2-secret"},
		"password": "hunter2-secret",
	}
	v, err := Open(sealPath(t, doc, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	const line = "step 3 of 5, false alarm, deploying to db.example.com and api.example.com as app_user with hunter2-secret"
	tests := []struct {
		name      string
		notSecret []string
		want      string
		masked    []string // the values the exporters mask
	}{
		{"the rule alone", nil,
			"step 3 of 5, false alarm, ***ing to *** and *** as *** with ***",
			[]string{"deploy", "db.example.com", "app_user", "hunter2-secret", "api.example.com"}},
		{"names declared not secret", []string{"mode", "db.host", "db.user", "hosts"},
			"step 3 of 5, false alarm, deploying to db.example.com and api.example.com as app_user with ***",
			[]string{"hunter2-secret"}},
		{"a whole object declared not secret", []string{"db", "mode"},
			"step 3 of 5, false alarm, deploying to db.example.com and *** as app_user with ***",
			[]string{"api.example.com", "hunter2-secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []FlattenOption{NotSecret(tt.notSecret...)}
			var out bytes.Buffer
			if err := v.Run(context.Background(), &Command{Args: []string{"printf", "%s", line}, Flatten: opts, Stdout: &out}); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("exec output\n got %q\nwant %q", got, tt.want)
			}

			var stdout, envFile bytes.Buffer
			if err := v.Export(&stdout, GitHubExporter(&envFile), "", opts...); err != nil {
				t.Fatal(err)
			}
			var masks []string
			for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
				if form, ok := strings.CutPrefix(l, "::add-mask::"); ok && !strings.Contains(form, "=") && form == strings.TrimSpace(form) {
					masks = append(masks, form)
				}
			}
			for _, s := range tt.masked {
				if !slices.Contains(masks, s) {
					t.Errorf("GitHub: %q is not masked", s)
				}
			}
			for _, s := range []string{"3", "false", "    ", "deploy", "db.example.com", "app_user", "api.example.com"} {
				if !slices.Contains(tt.masked, s) && slices.Contains(masks, s) {
					t.Errorf("GitHub: %q is masked", s)
				}
			}

			var azure bytes.Buffer
			if err := v.Export(&azure, ExportAzure, "", opts...); err != nil {
				t.Fatal(err)
			}
			secretVars := 0
			for _, l := range strings.Split(strings.TrimSpace(azure.String()), "\n") {
				if strings.Contains(l, "issecret=true") {
					secretVars++
				}
			}
			// hunter2-secret is the value of three variables.
			if want := len(tt.masked) + 2; secretVars != want {
				t.Errorf("Azure: %d secret variables, want %d:\n%s", secretVars, want, azure.String())
			}
		})
	}
	if err := v.Run(context.Background(), &Command{Args: []string{"true"}, Flatten: []FlattenOption{NotSecret("db.port")}}); err == nil || !strings.Contains(err.Error(), "port") {
		t.Errorf("a NotSecret path that does not exist: %v", err)
	}
}

// literalSecrets hold what string literals escape: both quotes or one, "$"
// and backquotes, backslashes, control characters, and characters beyond
// ASCII, printable or not (the red team's generated passwords among them).
var literalSecrets = []string{
	`Xk9'mP"q2zR`,
	`Xk9'mPq2zR`,
	"Xk9 mP$q2zR!",
	`Xk9"mPq<2&zR`,
	"a\\b`c\"d$e'f",
	"tab\there\r\nnl\x01\x1b é✓😀\u2028\u00a0\u0085end",
}

// toolForms runs a program with the secret on stdin, and returns what it
// writes, split at NUL bytes.
func toolForms(t *testing.T, secret, name string, args ...string) []string {
	t.Helper()
	return strings.Split(strings.TrimSuffix(runTool(t, secret, false, name, args...), "\x00"), "\x00")
}

// unquote returns s without the quotes around it, if it has them.
func unquote(s string) string {
	for _, q := range []string{`"`, `'`, `$'`} {
		if len(s) >= len(q)+1 && strings.HasPrefix(s, q) && strings.HasSuffix(s, q[len(q)-1:]) {
			return s[len(q) : len(s)-1]
		}
	}
	return s
}

// TestMaskPythonForms: what Python writes of a str: its repr (print of a
// dict), ascii(), unicode_escape, shlex.quote and shlex.join, a csv row,
// ElementTree's and saxutils' attributes, and PyYAML's scalars.
func TestMaskPythonForms(t *testing.T) {
	secrets := append(slices.Clone(formSecrets), literalSecrets...)
	m := NewMasker(secrets...)
	const py = `
import csv, io, shlex, sys, yaml
import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr
s = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
out = [repr(s), ascii(s), s.encode("unicode_escape").decode("ascii"), str({"k": s})[6:-1],
       shlex.quote(s), shlex.join(["cmd", s])[4:], quoteattr(s),
       ET.tostring(ET.Element("a", k=s), encoding="unicode")[6:-4]]
b = io.StringIO()
csv.writer(b).writerow([s, "x"])
out.append(b.getvalue()[:-len(",x\r\n")])
for allow in (False, True):
    out.append(yaml.dump({"k": s}, width=1e9, allow_unicode=allow)[len("k: "):-1])
sys.stdout.write("\0".join(out))
`
	for _, secret := range secrets {
		for _, form := range toolForms(t, secret, systemPython, "-c", py) {
			checkMasked(t, m, unquote(form))
		}
	}
}

// TestMaskPerlDumper: Data::Dumper's single quotes.
func TestMaskPerlDumper(t *testing.T) {
	secrets := append(slices.Clone(formSecrets), literalSecrets...)
	m := NewMasker(secrets...)
	for _, secret := range secrets {
		out := runTool(t, secret, true, "perl", "-MData::Dumper", "-e", `$Data::Dumper::Terse = 1; local $/; print Dumper(scalar <STDIN>)`)
		checkMasked(t, m, unquote(out))
	}
}

// TestMaskBashDeclare: bash's declare -p and export -p, in a UTF-8 locale
// and in the C locale.
func TestMaskBashDeclare(t *testing.T) {
	secrets := append(slices.Clone(formSecrets), literalSecrets...)
	m := NewMasker(secrets...)
	for _, secret := range secrets {
		for _, locale := range []string{"C.UTF-8", "C"} {
			out := runTool(t, secret, false, "env", "LC_ALL="+locale, "bash", "-c", `V=$(cat; echo x); export V="${V%x}"; declare -p V; printf '\0'; export -p | grep '^declare -x V='`)
			for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\x00") {
				form, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "declare -x V=")
				if !ok {
					t.Fatalf("bash wrote %q", line)
				}
				checkMasked(t, m, unquote(form))
			}
		}
	}
}

// TestMaskJqCSV: jq's @csv doubles double quotes, as Python's csv does.
func TestMaskJqCSV(t *testing.T) {
	secrets := append(slices.Clone(formSecrets), literalSecrets...)
	m := NewMasker(secrets...)
	for _, secret := range secrets {
		checkMasked(t, m, unquote(runTool(t, secret, true, "jq", "-Rrs", "[.] | @csv")))
	}
}

// TestMaskEncodeURI: JavaScript's encodeURI keeps what encodeURIComponent
// escapes of a URL's syntax.
func TestMaskEncodeURI(t *testing.T) {
	secrets := append(slices.Clone(formSecrets), literalSecrets...)
	m := NewMasker(secrets...)
	for _, secret := range secrets {
		checkMasked(t, m, runTool(t, secret, false, "node", "-e", `process.stdout.write(encodeURI(require("fs").readFileSync(0, "utf8")))`))
	}
}

// TestMaskHex: xxd -p, in lower and upper case, and Python's bytes.hex.
func TestMaskHex(t *testing.T) {
	secrets := append(slices.Clone(formSecrets), literalSecrets...)
	m := NewMasker(secrets...)
	for _, secret := range secrets {
		for _, args := range [][]string{{"-p"}, {"-p", "-u"}} {
			if out := runTool(t, secret, true, "xxd", args...); !strings.Contains(out, "\n") {
				checkMasked(t, m, out)
			}
		}
		checkMasked(t, m, runTool(t, secret, false, systemPython, "-c", `import sys; sys.stdout.write(sys.stdin.buffer.read().hex())`))
	}
}

// TestMaskUTF16Base64: PowerShell's -EncodedCommand, base64 of the command
// in UTF-16LE, with the secret inside the command at each alignment. What
// is left of the encoding around the mask holds only the bits of the
// command's other characters.
func TestMaskUTF16Base64(t *testing.T) {
	secrets := append(slices.Clone(formSecrets), literalSecrets...)
	m := NewMasker(secrets...)
	const py = `import base64, sys; sys.stdout.write(base64.b64encode(sys.stdin.buffer.read().decode("utf-8", "surrogateescape").encode("utf-16-le", "surrogatepass")).decode())`
	for _, secret := range secrets {
		for _, before := range []string{"", "$", "$e", "$en", "$env:X='"} {
			const after = "'; deploy"
			out := runTool(t, before+secret+after, false, systemPython, "-c", py)
			got := redactAll(t, m, out)
			head, tail, ok := strings.Cut(got, "***")
			if !ok || len(head) > (16*len(before)+5)/6+1 || len(tail) > (16*len(after)+5)/6+3 {
				t.Errorf("%q after %q: %s became %s", secret, before, out, got)
			}
		}
	}
}

// TestMaskWrappedShortTail: every line of a wrapped encoding (base64,
// openssl base64, xxd -p) is masked, the last however few of its characters
// are left (a short one is masked with the line before it), and no such
// piece shortens the scan's window.
func TestMaskWrappedShortTail(t *testing.T) {
	for n := 28; n <= 64; n++ {
		secret := strings.Repeat("s3cr3t-", 10)[:n]
		m := NewMasker(secret)
		if skip := m.matcher().skip; skip.window != maxWindow || skip.gram != 8 {
			t.Errorf("a secret of %d bytes: the scan's window is %d bytes, grams %d; want %d, 8", n, skip.window, skip.gram, maxWindow)
		}
		for _, cmd := range [][]string{{"base64"}, {"openssl", "base64"}, {"xxd", "-p"}} {
			out := runTool(t, secret, true, cmd[0], cmd[1:]...)
			if got := redactAll(t, m, out); strings.Trim(got, "*\n") != "" || !strings.HasPrefix(got, "***") {
				t.Errorf("%s of %d bytes:\n%s\nbecame\n%s", cmd[0], n, out, got)
			}
		}
	}
}

// TestEncodeWideASCII: base64 of ASCII in UTF-16LE behind 0, 1 or 2 zero
// bytes, made from the text itself, is what encoding/base64 writes for
// those bytes: every length up to a few groups, every ASCII byte.
func TestEncodeWideASCII(t *testing.T) {
	for n := range 40 {
		u := make([]byte, n)
		for i := range u {
			u[i] = byte((i*37 + n*11) % 128)
		}
		all := make([]byte, 128+n)
		for i := range all {
			all[i] = byte(i % 128)
		}
		for _, text := range []string{string(u), string(all)} {
			for shift := range 3 {
				raw := appendUTF16LE(make([]byte, shift), text)
				want := base64.StdEncoding.EncodeToString(raw)
				got := make([]byte, len(want))
				encodeWideASCII(got, text, shift)
				if string(got) != want {
					t.Fatalf("%q behind %d zero bytes: %s, want %s", text, shift, got, want)
				}
			}
		}
	}
}

// TestEncodeBase64: the forms' base64 is what encoding/base64 writes, for
// every length up to a few groups and every byte value.
func TestEncodeBase64(t *testing.T) {
	all := make([]byte, 3*256)
	for i := range all {
		all[i] = byte(i*7/3 + i%3*85)
	}
	for n := range 40 {
		for _, src := range [][]byte{all[:n], all[len(all)-n:], all[n:]} {
			want := base64.StdEncoding.EncodeToString(src)
			got := make([]byte, len(want))
			encodeBase64(got, src)
			if string(got) != want {
				t.Fatalf("%x: %s, want %s", src, got, want)
			}
		}
	}
}
