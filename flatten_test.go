package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t testing.TB, s string) map[string]any {
	t.Helper()
	doc, err := ParseJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestFlattenNaming(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		prefix string
		opts   []FlattenOption
		want   map[string]string
	}{
		{"the seed's example", `{"database": {"host": "db.example.com", "port": 5432, "username": "app_user", "password": "s3cret!P@ss"},
			"api_keys": {"stripe": "sk_live_xxxxx", "aws": "AKIAIOSFODNN7EXAMPLE"}, "ssh": {"private_key": "-----BEGIN\nMIIEpA..."}}`, "MYAPP_", nil,
			map[string]string{
				"MYAPP_DATABASE_HOST": "db.example.com", "MYAPP_DATABASE_PORT": "5432", "MYAPP_DATABASE_USERNAME": "app_user",
				"MYAPP_DATABASE_PASSWORD": "s3cret!P@ss", "MYAPP_API_KEYS_STRIPE": "sk_live_xxxxx", "MYAPP_API_KEYS_AWS": "AKIAIOSFODNN7EXAMPLE",
				"MYAPP_SSH_PRIVATE_KEY": "-----BEGIN\nMIIEpA...",
			}},
		{"odd keys", `{"api-key": "a", "db.host": "b", "pässwort": "c", "Mixed Case": "d", "x": {"ü": "e"}}`, "", nil,
			map[string]string{"API_KEY": "a", "DB_HOST": "b", "P_SSWORT": "c", "MIXED_CASE": "d", "X__": "e"}},
		{"a leading digit with a prefix", `{"1password": "x"}`, "APP_", nil, map[string]string{"APP_1PASSWORD": "x"}},
		{"arrays", `{"hosts": ["a", "b"], "users": [{"name": "u", "tags": ["t"]}]}`, "", nil,
			map[string]string{"HOSTS_0": "a", "HOSTS_1": "b", "USERS_0_NAME": "u", "USERS_0_TAGS_0": "t"}},
		{"scalars", `{"n": 12345678901234567890, "f": 1.0, "t": true, "no": false, "z": null, "e": ""}`, "", nil,
			map[string]string{"N": "12345678901234567890", "F": "1.0", "T": "true", "NO": "false", "Z": "", "E": ""}},
		{"empty objects and arrays give nothing", `{"a": {}, "b": [], "c": "x"}`, "", nil, map[string]string{"C": "x"}},
		{"a lower-case prefix is kept", `{"a": "x"}`, "app_", nil, map[string]string{"app_A": "x"}},
		{"a reserved name behind a prefix", `{"path": "/x", "github_token": "t"}`, "APP_", nil, map[string]string{"APP_PATH": "/x", "APP_GITHUB_TOKEN": "t"}},
		{"a reserved name allowed", `{"path": "/x"}`, "", []FlattenOption{AllowReserved()}, map[string]string{"PATH": "/x"}},
		{"a subtree", `{"prod": {"db": {"host": "h"}}, "dev": {"db": {"host": "d"}}}`, "APP_", []FlattenOption{FromPath("prod")},
			map[string]string{"APP_DB_HOST": "h"}},
		{"a subtree through an escaped key", `{"a.b": {"c": "x"}}`, "", []FlattenOption{FromPath(`a\.b`)}, map[string]string{"C": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Flatten(mustParse(t, tt.doc), tt.prefix, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Flatten (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFlattenErrors(t *testing.T) {
	big := strings.Repeat("x", MaxEnvString)
	tests := []struct {
		name   string
		doc    map[string]any
		prefix string
		opts   []FlattenOption
		says   string
	}{
		{"two paths, one name", mustParse(t, `{"a_b": "v1-secret", "a": {"b": "v2-secret"}}`), "", nil, `"a.b" and "a_b" both become the variable A_B`},
		{"names differing in case", mustParse(t, `{"Key": "v1-secret", "key": "v2-secret"}`), "", nil, `"Key" and "key" both become the variable KEY`},
		{"a dot and a nesting", mustParse(t, `{"db.host": "v1-secret", "db": {"host": "v2-secret"}}`), "", nil, "both become the variable DB_HOST"},
		{"a leading digit", mustParse(t, `{"1password": "v1-secret"}`), "", nil, `"1password" would be the variable "1PASSWORD", which is not a shell variable name ([A-Za-z_][A-Za-z0-9_]*): give a prefix`},
		{"a bad prefix", mustParse(t, `{"a": "v1-secret"}`), "MY-APP_", nil, `the prefix "MY-APP_" cannot start a shell variable name`},
		{"a prefix starting with a digit", mustParse(t, `{"a": "v1-secret"}`), "1APP_", nil, `the prefix "1APP_" cannot start a shell variable name`},
		{"a bad prefix, nothing to flatten", mustParse(t, `{"a": {}}`), "APP-", nil, `the prefix "APP-" cannot start`},
		{"a bad prefix, a missing subtree", mustParse(t, `{"prod": {"a": "v1-secret"}}`), "9", []FlattenOption{FromPath("staging")}, `the prefix "9" cannot start`},
		{"an empty key", mustParse(t, `{"": "v1-secret"}`), "", nil, "not a shell variable name"},
		{"PATH", mustParse(t, `{"path": "v1-secret"}`), "", nil, `"path" would set PATH, a reserved name (shell: shells read it to run code`},
		{"LD_PRELOAD", mustParse(t, `{"ld": {"preload": "v1-secret"}}`), "", nil, "would set LD_PRELOAD"},
		{"a GITHUB_ name", mustParse(t, `{"github": {"token": "v1-secret"}}`), "", nil, "would set GITHUB_TOKEN"},
		{"a CI_ name", mustParse(t, `{"ci": {"job": "v1-secret"}}`), "", nil, "would set CI_JOB"},
		{"NODE_OPTIONS", mustParse(t, `{"node_options": "v1-secret"}`), "", nil, "would set NODE_OPTIONS"},
		{"NUL", map[string]any{"a": "v1-secret\x00"}, "", nil, `the value at "a" holds a NUL byte`},
		{"oversize", map[string]any{"big": big}, "", nil, "BIG (from \"big\") would be 131077 bytes, more than the 131072 bytes"},
		{"a missing subtree", mustParse(t, `{"a": "v1-secret"}`), "", []FlattenOption{FromPath("b")}, `no credential "b"`},
		{"a scalar subtree", mustParse(t, `{"a": "v1-secret"}`), "", []FlattenOption{FromPath("a")}, `"a" is a string, not an object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars, err := Flatten(tt.doc, tt.prefix, tt.opts...)
			if err == nil {
				t.Fatalf("Flatten = %d variables, want an error", len(vars))
			}
			if vars != nil {
				t.Error("Flatten returned variables with its error")
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q\ndoes not say %q", err, tt.says)
			}
			assertNoLeak(t, "error", err.Error(), "v1-secret", "v2-secret", big[:100])
		})
	}
	// Just under the limit is fine: "BIG=" + value + NUL is exactly 128 KiB.
	if _, err := Flatten(map[string]any{"big": big[:MaxEnvString-5]}, ""); err != nil {
		t.Errorf("a variable of exactly %d bytes: %v", MaxEnvString, err)
	}
}

func TestVaultFlattenAndEnviron(t *testing.T) {
	key := GenerateKey()
	rec := &recorder{}
	v, err := Open(sealSeed(t, key), []*Key{key}, WithAuditor(rec))
	if err != nil {
		t.Fatal(err)
	}
	env, err := v.Environ("APP_", FromPath("database"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"APP_HOST=db.example.com", "APP_PASSWORD=s3cret!P@ss", "APP_PORT=5432", "APP_USERNAME=app_user"}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("Environ (-want +got):\n%s", diff)
	}
	e := rec.events[len(rec.events)-1]
	if e.Op != OpFlatten || !slicesEqual(e.Names, []string{"APP_HOST", "APP_PASSWORD", "APP_PORT", "APP_USERNAME"}) || len(e.ValueFingerprint) != 16 {
		t.Errorf("flatten event = %+v", e)
	}

	// A failing auditor: no map.
	rec.fail = errors.New("audit down")
	vars, err := v.Flatten("APP_")
	if vars != nil || !errors.Is(err, ErrAudit) {
		t.Errorf("Flatten with a failing auditor = %d variables, %v", len(vars), err)
	}
	var out strings.Builder
	if err := v.Export(&out, ExportShell, "APP_"); !errors.Is(err, ErrAudit) || out.Len() != 0 {
		t.Errorf("Export with a failing auditor wrote %d bytes, %v", out.Len(), err)
	}

	// The method's errors name the vault file.
	rec.fail = nil
	if _, err := v.Flatten("", FromPath("database.port")); err == nil || !strings.Contains(err.Error(), v.Name()+": flatten: ") {
		t.Errorf("Flatten error %v does not name the vault", err)
	}
}

func slicesEqual(a, b []string) bool { return cmp.Equal(a, b) }

func TestFlattenGoTypes(t *testing.T) {
	vars, err := Flatten(map[string]any{"port": 5432, "ratio": 0.5, "on": true, "hosts": []string{"a"}, "m": map[string]string{"k": "v"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"PORT": "5432", "RATIO": "0.5", "ON": "true", "HOSTS_0": "a", "M_K": "v"}
	if diff := cmp.Diff(want, vars); diff != "" {
		t.Errorf("Flatten of Go types (-want +got):\n%s", diff)
	}
	if vars, err := Flatten(nil, "X_"); err != nil || len(vars) != 0 {
		t.Errorf("Flatten(nil) = %v, %v", vars, err)
	}
	if _, err := Flatten(map[string]any{"c": make(chan int)}, ""); err == nil {
		t.Error("Flatten accepted a channel")
	}
}

// TestReservedNames checks names of every category: refused unprefixed,
// with the category in the error, allowed behind a prefix or with
// AllowReserved; and names that only look alike are allowed.
func TestReservedNames(t *testing.T) {
	tests := []struct {
		name     string
		category string // "" if allowed
	}{
		{"PS4", "shell"},
		{"PROMPT_COMMAND", "shell"},
		{"ENV", "shell"},
		{"BASH_ENV", "shell"},
		{"SHELLOPTS", "shell"},
		{"BASHOPTS", "shell"},
		{"IFS", "shell"},
		{"PATH", "shell"},
		{"BASH_FUNC_X", "shell"},
		{"LD_PRELOAD", "dynamic linker and libc"},
		{"LD_ANYTHING", "dynamic linker and libc"},
		{"GCONV_PATH", "dynamic linker and libc"},
		{"GLIBC_TUNABLES", "dynamic linker and libc"},
		{"DYLD_INSERT_LIBRARIES", "dynamic linker and libc"},
		{"PYTHONPATH", "language runtime"},
		{"PYTHONSTARTUP", "language runtime"},
		{"PERL5OPT", "language runtime"},
		{"PERL5LIB", "language runtime"},
		{"RUBYOPT", "language runtime"},
		{"NODE_OPTIONS", "language runtime"},
		{"NODE_PATH", "language runtime"},
		{"JAVA_TOOL_OPTIONS", "language runtime"},
		{"JDK_JAVA_OPTIONS", "language runtime"},
		{"_JAVA_OPTIONS", "language runtime"},
		{"GOFLAGS", "language runtime"},
		{"GOPROXY", "language runtime"},
		{"GOPATH", "language runtime"},
		{"CGO_LDFLAGS", "language runtime"},
		{"GIT_SSH_COMMAND", "git and ssh helpers"},
		{"GIT_ASKPASS", "git and ssh helpers"},
		{"GIT_CONFIG_GLOBAL", "git and ssh helpers"},
		{"SSH_ASKPASS", "git and ssh helpers"},
		{"PAGER", "git and ssh helpers"},
		{"SSL_CERT_FILE", "TLS trust and proxies"},
		{"SSL_CERT_DIR", "TLS trust and proxies"},
		{"CURL_CA_BUNDLE", "TLS trust and proxies"},
		{"REQUESTS_CA_BUNDLE", "TLS trust and proxies"},
		{"NODE_EXTRA_CA_CERTS", "TLS trust and proxies"},
		{"HTTPS_PROXY", "TLS trust and proxies"},
		{"GITHUB_TOKEN", "CI platform"},
		{"ACTIONS_RUNTIME_TOKEN", "CI platform"},
		{"CI_JOB_TOKEN", "CI platform"},
		{"DATABASE_PASSWORD", ""},
		{"GOOGLE_API_KEY", ""},
		{"LDAP_PASSWORD", ""},
		{"GITEA_TOKEN", ""},
		{"PS5", ""},
		{"ENVIRONMENT", ""},
		{"SSL_KEY", ""},
		{"PATHS", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secrets := map[string]any{strings.ToLower(tt.name): "v"}
			_, err := Flatten(secrets, "")
			if tt.category == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			want := "would set " + tt.name + ", a reserved name (" + tt.category + ": "
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want one saying %q", err, want)
			}
			if _, err := Flatten(secrets, "APP_"); err != nil {
				t.Errorf("with a prefix: %v", err)
			}
			if vars, err := Flatten(secrets, "", AllowReserved()); err != nil || vars[tt.name] != "v" {
				t.Errorf("with AllowReserved: %v, %v", vars, err)
			}
		})
	}
}

// TestReservedNamesDocumented checks that Flatten's doc comment and the
// README list every reserved name and prefix, so the lists cannot drift.
func TestReservedNamesDocumented(t *testing.T) {
	for _, file := range []string{"flatten.go", "README.md"} {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		doc := strings.Join(strings.Fields(string(text)), " ")
		for _, c := range reservedCategories {
			for _, n := range c.names {
				if !strings.Contains(doc, n) {
					t.Errorf("%s does not list %s (%s)", file, n, c.name)
				}
			}
			for _, p := range c.prefixes {
				if !strings.Contains(doc, p+"*") {
					t.Errorf("%s does not list %s* (%s)", file, p, c.name)
				}
			}
		}
	}
}

// TestNamesSortedWhereNamingReorders: names are made in the document's
// order, which the naming rule does not keep (a_b sorts before ab, A_B
// after AB; HOSTS_10 before HOSTS_2); the audit records, Environ, the
// exporters and a command's environment list them sorted all the same.
func TestNamesSortedWhereNamingReorders(t *testing.T) {
	key := GenerateKey()
	hosts := make([]any, 11)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("host%d.example.com", i)
	}
	doc := map[string]any{"B": "v-B", "a_b": "v-a_b", "ab": "v-ab", "hosts": hosts, "x": map[string]any{"y": "v-x.y"}, "x0": "v-x0"}
	want := []string{"AB", "A_B", "B", "HOSTS_0", "HOSTS_1", "HOSTS_10", "HOSTS_2", "HOSTS_3", "HOSTS_4",
		"HOSTS_5", "HOSTS_6", "HOSTS_7", "HOSTS_8", "HOSTS_9", "X0", "X_Y"}
	rec := &recorder{}
	v, err := Open(sealPath(t, doc, key), []*Key{key}, WithAuditor(rec))
	if err != nil {
		t.Fatal(err)
	}
	lastNames := func(op Op) []string {
		t.Helper()
		e := rec.events[len(rec.events)-1]
		if e.Op != op {
			t.Fatalf("last event is %s, want %s", e.Op, op)
		}
		return e.Names
	}
	namesOf := func(lines []string, re *regexp.Regexp) (names []string) {
		for _, l := range lines {
			if m := re.FindStringSubmatch(l); m != nil {
				names = append(names, m[1])
			}
		}
		return names
	}

	checkEnviron := func(what string, env []string, op Op) {
		t.Helper()
		if diff := cmp.Diff(want, namesOf(env, regexp.MustCompile(`^(\w+)=`))); diff != "" {
			t.Errorf("%s's names (-want +got):\n%s", what, diff)
		}
		if diff := cmp.Diff(want, lastNames(op)); diff != "" {
			t.Errorf("the %s record's names (-want +got):\n%s", op, diff)
		}
	}

	env, err := v.Environ("")
	if err != nil {
		t.Fatal(err)
	}
	checkEnviron("Environ", env, OpFlatten)

	for _, tt := range []struct {
		name   string
		export Exporter
		line   string // a line's name
	}{
		{"shell", ExportShell, `^export (\w+)=`},
		{"dotenv", ExportDotenv, `^(\w+)="`},
		{"json", ExportJSON, `^  "(\w+)": `},
		{"azure", ExportAzure, `variable=(\w+)`},
		{"github", nil, `^(\w+)<<`},
	} {
		var out strings.Builder
		export, w := tt.export, io.Writer(&out)
		if export == nil { // GitHub's: the variables go to the env file
			export, w = GitHubExporter(&out), io.Discard
		}
		if err := v.Export(w, export, ""); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, namesOf(strings.Split(out.String(), "\n"), regexp.MustCompile(tt.line))); diff != "" {
			t.Errorf("%s: the names written (-want +got):\n%s", tt.name, diff)
		}
		if diff := cmp.Diff(want, lastNames(OpExport)); diff != "" {
			t.Errorf("%s: the export record's names (-want +got):\n%s", tt.name, diff)
		}
	}

	env, _, err = v.commandEnv(context.Background(), &Command{Args: []string{"deploy"}})
	if err != nil {
		t.Fatal(err)
	}
	checkEnviron("the command's environment", env, OpExec)
}

// TestNamesAfterAuditorChangesThem: the Auditor contract forbids keeping
// Event.Names, not changing them, and an Auditor that rewrites or filters
// them in place (lower-cases them, reorders them, drops some with
// slices.DeleteFunc) must not change what Environ returns or what Export
// writes: exactly the vault's variables, sorted, each once.
func TestNamesAfterAuditorChangesThem(t *testing.T) {
	key := GenerateKey()
	path := sealPath(t, map[string]any{"db": map[string]any{"host": "db.example.com", "password": "hunter2-hunter2"}, "internal": "x", "token": "tok-123456789"}, key)
	wantEnv := []string{"DB_HOST=db.example.com", "DB_PASSWORD=hunter2-hunter2", "INTERNAL=x", "TOKEN=tok-123456789"}
	wantShell := "export DB_HOST='db.example.com'\nexport DB_PASSWORD='hunter2-hunter2'\nexport INTERNAL='x'\nexport TOKEN='tok-123456789'\n"
	for _, tt := range []struct {
		name   string
		change func(names []string) []string
	}{
		{"lower-cased", func(names []string) []string {
			for i, n := range names {
				names[i] = strings.ToLower(n)
			}
			return names
		}},
		{"reversed", func(names []string) []string { slices.Reverse(names); return names }},
		{"filtered", func(names []string) []string {
			return slices.DeleteFunc(names, func(n string) bool { return n == "INTERNAL" })
		}},
		{"one twice", func(names []string) []string { names[1] = names[0]; return names }},
	} {
		v, err := Open(path, []*Key{key}, WithAuditor(AuditorFunc(func(_ context.Context, e Event) error {
			if len(e.Names) > 1 {
				e.Names = tt.change(e.Names)
			}
			return nil
		})))
		if err != nil {
			t.Fatal(err)
		}
		env, err := v.Environ("")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantEnv, env); diff != "" {
			t.Errorf("%s: Environ (-want +got):\n%s", tt.name, diff)
		}
		var out strings.Builder
		if err := v.Export(&out, ExportShell, ""); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantShell, out.String()); diff != "" {
			t.Errorf("%s: Export (-want +got):\n%s", tt.name, diff)
		}
	}
}

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestFlattenRefusesRepeatedLongKeys: a 100 KB key over 1,000 values is a
// small document whose names would be 100 MB; Flatten refuses it, naming
// the largest variables by the start of their names, after measuring and
// before making them.
func TestFlattenRefusesRepeatedLongKeys(t *testing.T) {
	children := map[string]any{}
	for i := range 1000 {
		children[fmt.Sprintf("c%04d", i)] = "v1-secret"
	}
	long := strings.Repeat("k", 100_000)
	doc := map[string]any{long: children}
	var vars map[string]string
	var err error
	alloc := allocated(func() { vars, err = Flatten(doc, "") })
	if err == nil {
		t.Fatalf("Flatten made %d variables of 100 KB names", len(vars))
	}
	want := fmt.Sprintf("the 1000 variables would be %d bytes as NAME=value strings, more than the %d bytes Flatten makes (MaxEnvironSize): the largest are %s... (a name of 100006 bytes) (100017 bytes), ",
		1000*100_017, MaxEnvironSize, strings.Repeat("K", maxNameShown))
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\ndoes not say %q", err, want)
	}
	if len(err.Error()) > 1024 {
		t.Errorf("the error is %d bytes long", len(err.Error()))
	}
	assertNoLeak(t, "error", err.Error(), "v1-secret")
	// The document itself is copied once by Flatten (200 KB); the names
	// would be 100 MB.
	if alloc > 2<<20 {
		t.Errorf("Flatten allocated %d KB to refuse names of 100 MB", alloc>>10)
	}
}

// TestFlattenLimitIsExact: the measure flatten takes first counts each
// NAME=value and its NUL, as the variables are made: a limit of their size
// passes, one byte less is refused.
func TestFlattenLimitIsExact(t *testing.T) {
	const text = `{"db": {"host": "h1", "ports": [5432, 6432]}, "ключ-ü": true, "e": {}, "n": null}`
	doc := mustParse(t, text)
	root, err := decode([]byte(text), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", "APP_"} {
		vars, err := Flatten(doc, prefix)
		if err != nil {
			t.Fatal(err)
		}
		size := 0
		for n, v := range vars {
			size += len(n) + len(v) + 2
		}
		if _, _, err := flatten("", root, prefix, nil, false, size); err != nil {
			t.Errorf("prefix %q: a limit of the variables' %d bytes: %v", prefix, size, err)
		}
		if _, _, err := flatten("", root, prefix, nil, false, size-1); err == nil {
			t.Errorf("prefix %q: a limit of %d bytes passed variables of %d", prefix, size-1, size)
		}
	}
}

// TestFlattenCollisionInDeepVault: a collision at the bottom of a document
// nested 4,000 levels, whose names are 16 MB, is reported having made the
// names once, in the quick pass; finding the two paths makes no name.
func TestFlattenCollisionInDeepVault(t *testing.T) {
	const depth = 4000
	doc := map[string]any{"x-y": "value1", "x_y": "value2"}
	for i := depth - 1; i >= 0; i-- {
		doc = map[string]any{"a": fmt.Sprintf("val%06d", i), "b": doc} // a before b: every name is made first
	}
	var err error
	alloc := allocated(func() { _, err = Flatten(doc, "") })
	if err == nil || !strings.Contains(err.Error(), `"b.b.b.b.b.`) || !strings.Contains(err.Error(), `.b.x_y" both become the variable B_B_B_B_`) {
		t.Fatalf("Flatten: %.200v, want a collision", err)
	}
	// The names once are 16 MB, in a map; a second pass that made them
	// again, with their paths, allocated 156 MB.
	if alloc > 40<<20 {
		t.Errorf("Flatten allocated %d MB to report a collision %d levels deep", alloc>>20, depth)
	}
}
