package vault

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Flatten turns secrets into environment variables, with one published
// naming rule. secrets may hold any type Seal accepts.
//
//   - A variable's name is prefix followed by the path's parts, upper-cased
//     and joined by "_": {"database": {"host": ...}} with prefix "APP_" is
//     APP_DATABASE_HOST. Array elements are parts too: hosts[0] is HOSTS_0.
//   - Every character outside [A-Za-z0-9_] becomes "_" ("api-key" gives
//     API_KEY; "db.host" gives DB_HOST; "ключ" gives "____").
//   - Strings are given raw; numbers in their exact JSON text; booleans as
//     true and false; null as the empty string. Empty objects and arrays
//     give no variable.
//
// Flatten never overwrites silently. It is an error, naming credential paths
// and variable names and never a value, when:
//
//   - two paths give one name ({"a_b": 1, "a": {"b": 2}} both give A_B);
//   - a name is not a shell variable name, [A-Za-z_][A-Za-z0-9_]* (a path
//     starting with a digit needs a prefix), or the prefix cannot start one;
//   - a name is reserved (see below), unless [AllowReserved] is given (a
//     prefix avoids them all);
//   - a value holds a NUL byte, which no environment can carry;
//   - one NAME=value is longer than 128 KiB, which Linux refuses to exec;
//   - the NAME=value strings would total more than [MaxEnvironSize]: a long
//     key or a deep path is in the name of every value below it. This is
//     found before any is made.
//
// Reserved names make common programs run or load other code, or change
// whom they trust; the error names the category:
//
//   - shell: PATH, HOME, SHELL, USER, LOGNAME, TMPDIR, PWD, OLDPWD, ENV,
//     BASH_ENV, PS1, PS2, PS3, PS4 (bash -x runs it), PROMPT_COMMAND, SHELLOPTS,
//     BASHOPTS, IFS, CDPATH, GLOBIGNORE, EXECIGNORE, FPATH, ZDOTDIR,
//     HISTFILE, INPUTRC, BASH_XTRACEFD, BASH_COMPAT, BASH_LOADABLES_PATH,
//     POSIXLY_CORRECT, BASH_FUNC_*;
//   - dynamic linker and libc: LD_*, DYLD_*, GCONV_PATH, GLIBC_TUNABLES,
//     LOCPATH, NLSPATH, HOSTALIASES, RES_OPTIONS, LOCALDOMAIN, TZDIR,
//     MALLOC_CHECK_, MALLOC_TRACE;
//   - language runtime: PYTHON*, PERL5*, PERL_*, PERLLIB, PERLDB_OPTS,
//     RUBY*, GEM_HOME, GEM_PATH, BUNDLE_GEMFILE, NODE_*, NPM_CONFIG_*,
//     JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS, _JAVA_OPTIONS, JAVA_HOME,
//     CLASSPATH, MAVEN_OPTS, GRADLE_OPTS, Go's GOFLAGS, GOPATH, GOROOT,
//     GOBIN, GOENV, GOTOOLCHAIN, GOPROXY, GONOPROXY, GOPRIVATE, GOSUMDB,
//     GONOSUMDB, GOINSECURE, GOEXPERIMENT, GODEBUG, GOCACHE, GOMODCACHE,
//     GOWORK, CGO_*, CC, CXX, PHPRC, PHP_INI_SCAN_DIR, LUA_INIT, LUA_PATH,
//     LUA_CPATH, TCLLIBPATH, DOTNET_STARTUP_HOOKS, CORECLR_PROFILER_PATH,
//     CORECLR_ENABLE_PROFILING;
//   - git and ssh helpers: GIT_*, SSH_ASKPASS, SSH_ASKPASS_REQUIRE,
//     SSH_AUTH_SOCK, SUDO_ASKPASS, EDITOR, VISUAL, PAGER, MANPAGER, BROWSER,
//     LESSOPEN, LESSCLOSE;
//   - TLS trust and proxies: SSL_CERT_FILE, SSL_CERT_DIR, CURL_CA_BUNDLE,
//     REQUESTS_CA_BUNDLE, AWS_CA_BUNDLE, PIP_CERT, NODE_EXTRA_CA_CERTS,
//     SSLKEYLOGFILE, HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY, FTP_PROXY;
//   - CI platform: GITHUB_*, RUNNER_*, ACTIONS_*, CI_*, GITLAB_*,
//     BUILDKITE_*, CIRCLE_*.
//
// Where the seed's Python inject_env differs: it keeps characters such as
// "-" in names (API-KEY is no shell variable); it writes lists and nested
// lists as Python reprs ("['a', 'b']") and an empty list as "[]" where
// Flatten gives one variable per element and nothing; it writes True, False
// and None where Flatten gives true, false and the empty string; it lets a
// later path overwrite an earlier one with the same name; and its variables
// live only in the Python process that set them.
func Flatten(secrets map[string]any, prefix string, opts ...FlattenOption) (map[string]string, error) {
	// A caller's map may hold any type Seal accepts (an int, a []string);
	// the flattener reads the types Open produces.
	if secrets == nil {
		return map[string]string{}, nil
	}
	doc, err := normalize(secrets, nil)
	if err != nil {
		return nil, err
	}
	vars, _, err := flatten("", doc, prefix, opts, false, MaxEnvironSize)
	return vars, err
}

// flatten is Flatten for the vault file name, which its errors name, with
// limit for MaxEnvironSize: if the variables would be larger, it returns
// an *environTooLarge before making them. If names is set, it also returns
// the names, sorted, as an audit record, an environment and exec list
// them. They are made in the document's order,
// which is sorted by key, so that they need no sorting unless the naming
// rule changes the order ("a_b" comes before "ab", but A_B after AB;
// HOSTS_10 comes before HOSTS_9): sorting the keys of the map would take
// most of the time flatten does at 10,000 names.
//
// It makes one quick pass, in the document's order; only if that meets a
// problem does explain find the paths that the error names.
func flatten(name string, doc node, prefix string, opts []FlattenOption, names bool, limit int) (map[string]string, []string, error) {
	f := flattener{name: name, prefix: prefix, keepNames: names}
	for _, opt := range opts {
		if opt != nil {
			opt(&f.opts)
		}
	}
	if !isEnvName(prefix + "X") {
		return nil, nil, f.errorf("the prefix %q cannot start a shell variable name ([A-Za-z_][A-Za-z0-9_]*): give one of letters, digits and _ that does not start with a digit, such as APP_", prefix)
	}
	root, err := f.root(doc)
	if err != nil {
		return nil, nil, err
	}
	size := measure(root, prefix)
	if size.bytes > limit {
		return nil, nil, &environTooLarge{vault: name, size: size, limit: limit}
	}
	if size.vars == 0 {
		return map[string]string{}, []string{}, nil
	}
	f.vars = make(map[string]string, size.vars)
	if names {
		f.names = make([]string, 0, size.vars)
	}
	f.arena = make([]byte, 0, min(64<<10, size.bytes))
	if !f.quick(root, append(make([]byte, 0, 256), prefix...), true) {
		return nil, nil, f.explain(root, len(f.vars))
	}
	if !slices.IsSorted(f.names) {
		slices.Sort(f.names)
	}
	return f.vars, f.names, nil
}

// quick adds the variables below node, whose names start with name, and
// reports whether it met no problem; it stops at the first. top is true at
// the root (an object or an array), whose parts have no "_" in front.
func (f *flattener) quick(n node, name []byte, top bool) bool {
	switch n.kind() {
	case kindObject:
		if !top {
			name = append(name, '_')
		}
		for _, m := range n.members() {
			if !f.quick(m.val, appendEnvName(name, m.key), false) {
				return false
			}
		}
		return true
	case kindArray:
		if !top {
			name = append(name, '_')
		}
		for i, x := range n.elems() {
			if !f.quick(x, strconv.AppendInt(name, int64(i), 10), false) {
				return false
			}
		}
		return true
	}
	value, _ := scalarText(n)
	if len(name) == 0 || '0' <= name[0] && name[0] <= '9' ||
		strings.IndexByte(value, 0) >= 0 || len(name)+len(value)+2 > MaxEnvString {
		return false
	}
	s := f.intern(name)
	if !f.opts.allowReserved && isReserved(s) {
		return false
	}
	before := len(f.vars)
	f.vars[s] = value
	if f.keepNames {
		f.names = append(f.names, s)
	}
	return len(f.vars) > before // else s was there already: a collision
}

// MaxEnvironSize is the most bytes of NAME=value strings, with a
// terminating NUL each, that Flatten makes: as much as the largest vault
// holds, and ten times what Linux passes to a program. Only names can make
// the variables larger than the vault: a long key, or a deep path, is in
// the name of every value below it.
const MaxEnvironSize = MaxVaultSize

// An envSize is the size of the variables a document flattens to: their
// number, their bytes as NAME=value strings with a NUL each, and the
// largest of them.
type envSize struct {
	vars, bytes int
	largest     [3]bigVar // the largest first; of size 0 past the last
}

// A bigVar is one of the largest variables: its size as NAME=value with a
// NUL, its name's length and the name's first bytes.
type bigVar struct {
	size, nameLen int
	start         [maxNameShown]byte
}

// String names the variable and its size, a long name by its start and
// its length.
func (v *bigVar) String() string {
	return describeVar(string(v.start[:min(v.nameLen, maxNameShown)]), v.nameLen, v.size)
}

// describeVar names a variable of size bytes by its name, of nameLen
// bytes, of which shown holds the first maxNameShown or all.
func describeVar(shown string, nameLen, size int) string {
	if nameLen > maxNameShown {
		return fmt.Sprintf("%s... (a name of %d bytes) (%d bytes)", shown[:maxNameShown], nameLen, size)
	}
	return fmt.Sprintf("%s (%d bytes)", shown, size)
}

// maxNameShown is the longest name an error shows whole.
const maxNameShown = 64

// measure returns the size of the variables below root, whose names start
// with prefix, without making them: in time linear in the document, and
// memory the length of its longest key.
func measure(root node, prefix string) envSize {
	var s envSize
	name := append(make([]byte, 0, 256), prefix...)
	s.add(root, name[:min(len(name), maxNameShown)], len(prefix), true)
	return s
}

// add adds the variables below n. Their names start with a name of nameLen
// bytes, of which name holds the first maxNameShown or all; top is true at
// the root, whose parts have no "_" in front.
func (s *envSize) add(n node, name []byte, nameLen int, top bool) {
	below := func(n node, name []byte, nameLen int) {
		s.add(n, name[:min(len(name), maxNameShown)], nameLen, false)
	}
	switch n.kind() {
	case kindObject:
		if !top {
			name, nameLen = append(name, '_'), nameLen+1
		}
		for _, m := range n.members() {
			longer := appendEnvName(name, m.key)
			below(m.val, longer, nameLen+len(longer)-len(name))
		}
		return
	case kindArray:
		if !top {
			name, nameLen = append(name, '_'), nameLen+1
		}
		for i, x := range n.elems() {
			longer := strconv.AppendInt(name, int64(i), 10)
			below(x, longer, nameLen+len(longer)-len(name))
		}
		return
	}
	value, _ := scalarText(n)
	v := bigVar{size: nameLen + 1 + len(value) + 1, nameLen: nameLen}
	s.vars++
	s.bytes += v.size
	if v.size <= s.largest[len(s.largest)-1].size {
		return
	}
	copy(v.start[:], name)
	i := len(s.largest) - 1
	for ; i > 0 && s.largest[i-1].size < v.size; i-- {
		s.largest[i] = s.largest[i-1]
	}
	s.largest[i] = v
}

// environTooLarge is the error of flatten for variables larger than its
// limit.
type environTooLarge struct {
	vault string
	size  envSize
	limit int
}

func (e *environTooLarge) Error() string {
	where := "vault: flatten: "
	if e.vault != "" {
		where = "vault: " + e.vault + ": flatten: "
	}
	return fmt.Sprintf("%sthe %d variables would be %d bytes as NAME=value strings, more than the %d bytes Flatten makes (MaxEnvironSize): the largest are %s; flatten below a path (FromPath, -path), or shorten the keys that every name below them repeats",
		where, e.size.vars, e.size.bytes, e.limit, e.size.largestText())
}

// largestText lists the largest variables.
func (s *envSize) largestText() string {
	var list []string
	for i := range s.largest {
		if s.largest[i].size > 0 {
			list = append(list, s.largest[i].String())
		}
	}
	return strings.Join(list, ", ")
}

// A FlattenOption changes what Flatten produces.
type FlattenOption func(*flattenOptions)

type flattenOptions struct {
	subtree       string
	allowReserved bool
	notSecret     []string // credential paths, see NotSecret
}

// FromPath flattens only the object at the credential path p, as the CLI's
// -path does: names then start below it, so FromPath("prod") turns
// {"prod": {"db": {"host": ...}}} into DB_HOST (with the prefix in front).
func FromPath(p string) FlattenOption {
	return func(o *flattenOptions) { o.subtree = p }
}

// AllowReserved lets Flatten produce the names it refuses by default, such as
// PATH or GITHUB_TOKEN. Use it only when the vault is meant to set them.
func AllowReserved() FlattenOption {
	return func(o *flattenOptions) { o.allowReserved = true }
}

// NotSecret declares the values at the credential paths (a value, or every
// value below an object or array) as not secret: host names, ports, user
// names. They are flattened and exported as usual, but not masked: exec's
// Redactors leave them in the output, [GitHubExporter] registers no mask for
// them and [ExportAzure] sets them without issecret, so that a log line
// "deploying to db.example.com" keeps its words. A value that is also found
// at a path not declared stays masked. A path that does not exist is an
// error. Flatten itself gives the same variables with or without it.
func NotSecret(paths ...string) FlattenOption {
	return func(o *flattenOptions) { o.notSecret = append(o.notSecret, paths...) }
}

// MaxEnvString is the longest NAME=value string, with its terminating NUL,
// that Linux passes to a new program: MAX_ARG_STRLEN, 32 pages of 4 KiB.
const MaxEnvString = 128 << 10

type flattener struct {
	arena     []byte // the bytes of the names made so far, see intern
	name      string // the vault file, or ""
	prefix    string
	opts      flattenOptions
	keepNames bool
	vars      map[string]string // name to value
	names     []string          // if keepNames, the quick pass's names, in the order made until sorted
}

// intern returns name as a string kept in the arena: names are allocated a
// chunk at a time rather than one by one, which matters at 100,000 names.
// A chunk is never written again once a string points into it.
func (f *flattener) intern(name []byte) string {
	if len(name) == 0 {
		return ""
	}
	if cap(f.arena)-len(f.arena) < len(name) {
		f.arena = make([]byte, 0, max(64<<10, len(name)))
	}
	start := len(f.arena)
	f.arena = append(f.arena, name...)
	return unsafe.String(&f.arena[start], len(name))
}

// errorf returns an error that names the vault file, if known.
func (f *flattener) errorf(format string, args ...any) error {
	where := "vault: flatten: "
	if f.name != "" {
		where = "vault: " + f.name + ": flatten: "
	}
	return fmt.Errorf(where+format, args...)
}

// root returns the node to flatten: the document, or the subtree.
func (f *flattener) root(doc node) (node, error) {
	if f.opts.subtree == "" {
		return doc, nil
	}
	segs, err := parsePath(f.opts.subtree)
	if err != nil {
		return node{}, f.errorf("%w", err)
	}
	n, err := lookup(f.name, f.opts.subtree, doc, segs)
	if err != nil {
		return node{}, err
	}
	if n.isContainer() {
		return n, nil
	}
	return node{}, f.errorf("%q is a %s, not an object: give the path of an object to flatten below it", f.opts.subtree, n.kindName())
}

// explain returns the error of the variable that the quick pass could not
// make, the leaf-th value in the document's order. It finds the value's
// path and, for a name made twice, the path of the value that made it
// first, making no other variable: an error costs no more memory than the
// document's depth and its longest name.
func (f *flattener) explain(root node, leaf int) error {
	var segs []string
	var name, value string
	i := 0
	f.visit(root, nil, []byte(f.prefix), true, func(s []string, n []byte, v string) bool {
		if i < leaf {
			i++
			return true
		}
		segs, name, value = slices.Clone(s), string(n), v
		return false
	})
	var first []string
	i = 0
	f.visit(root, nil, []byte(f.prefix), true, func(s []string, n []byte, _ string) bool {
		if i == leaf {
			return false
		}
		if string(n) == name {
			first = slices.Clone(s)
			return false
		}
		i++
		return true
	})
	return f.problem(segs, name, value, first)
}

// visit calls leaf with the path, name and value of each value below n,
// in the document's order, until leaf returns false, and reports whether
// it never did. segs is the path to n and name its name; siblings share
// their arrays, which leaf must not keep.
func (f *flattener) visit(n node, segs []string, name []byte, top bool, leaf func(segs []string, name []byte, value string) bool) bool {
	switch n.kind() {
	case kindObject:
		if !top {
			name = append(name, '_')
		}
		for _, m := range n.members() {
			if !f.visit(m.val, append(segs, m.key), appendEnvName(name, m.key), false, leaf) {
				return false
			}
		}
		return true
	case kindArray:
		if !top {
			name = append(name, '_')
		}
		for i, x := range n.elems() {
			if !f.visit(x, append(segs, strconv.Itoa(i)), strconv.AppendInt(name, int64(i), 10), false, leaf) {
				return false
			}
		}
		return true
	}
	value, _ := scalarText(n)
	return leaf(segs, name, value)
}

// problem returns the error of the variable name, of value, from the path
// segs; first is the path that made the name before, if one did.
func (f *flattener) problem(segs []string, name, value string, first []string) error {
	path := f.credentialPath(segs)
	if !isEnvName(name) {
		hint := "rename the key"
		if name != "" && name[0] >= '0' && name[0] <= '9' {
			hint = "give a prefix, such as APP_, or rename the key"
		}
		return f.errorf("%q would be the variable %q, which is not a shell variable name ([A-Za-z_][A-Za-z0-9_]*): %s", path, name, hint)
	}
	if first != nil {
		return f.errorf("%q and %q both become the variable %s: rename one of the keys, or flatten below one of them (FromPath, -path)", f.credentialPath(first), path, name)
	}
	if c := reservedAs(name); c != nil && !f.opts.allowReserved {
		return f.errorf("%q would set %s, a reserved name (%s: %s): give a prefix, such as APP_, or allow it explicitly (AllowReserved, -allow-reserved)", path, name, c.name, c.why)
	}
	if strings.IndexByte(value, 0) >= 0 {
		return f.errorf("the value at %q holds a NUL byte, which no environment variable can carry: encode it (base64) in the vault", path)
	}
	if n := len(name) + 1 + len(value) + 1; n > MaxEnvString {
		return f.errorf("%s (from %q) would be %d bytes, more than the %d bytes Linux passes to a program in one variable: leave it out (FromPath, -path), or have the program read it from a file", name, path, n, MaxEnvString)
	}
	return f.errorf("%q: the variable %s could not be made", path, name) // not reached: quick meets no other problem
}

// credentialPath returns the credential path of segs, below the subtree
// flattened.
func (f *flattener) credentialPath(segs []string) string {
	if f.opts.subtree != "" {
		return f.opts.subtree + "." + formatPath(segs)
	}
	return formatPath(segs)
}

// appendEnvName appends one part of a name: ASCII letters upper-cased,
// digits and "_" kept, every other character (not byte) "_".
func appendEnvName(b []byte, part string) []byte {
	for i := 0; i < len(part); {
		if c := part[i]; c < utf8.RuneSelf {
			b = append(b, envNameByte[c])
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(part[i:])
		b = append(b, '_')
		i += size
	}
	return b
}

// envNameByte maps an ASCII byte to what it becomes in a name.
var envNameByte = func() (t [utf8.RuneSelf]byte) {
	for c := range t {
		switch {
		case 'a' <= c && c <= 'z':
			t[c] = byte(c - 'a' + 'A')
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_':
			t[c] = byte(c)
		default:
			t[c] = '_'
		}
	}
	return t
}()

// isEnvName reports whether s matches [A-Za-z_][A-Za-z0-9_]*.
func isEnvName(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Flatten is the package's Flatten over the vault's document, audited as
// OpFlatten with the variable names and a fingerprint of the values. If the
// audit fails, it returns no map.
func (v *Vault) Flatten(prefix string, opts ...FlattenOption) (map[string]string, error) {
	return v.FlattenContext(context.Background(), prefix, opts...)
}

// FlattenContext is Flatten with a context, which the Auditor receives (see
// [Auditor]).
func (v *Vault) FlattenContext(ctx context.Context, prefix string, opts ...FlattenOption) (map[string]string, error) {
	vars, _, err := v.flatten(ctx, OpFlatten, prefix, opts, false)
	return vars, err
}

// flatten flattens and audits as op, releasing the map, and the names
// sorted if names is set or an Auditor needs them, only if the audit
// record was written.
func (v *Vault) flatten(ctx context.Context, op Op, prefix string, opts []FlattenOption, names bool) (map[string]string, []string, error) {
	if err := v.readyWith(ctx); err != nil {
		return nil, nil, err
	}
	audited := v.opts.auditor != nil
	vars, sorted, err := flatten(v.name, *v.doc(), prefix, opts, names || audited, MaxEnvironSize)
	event := v.event(op, err)
	if err == nil && audited {
		event.Names = slices.Clone(sorted) // the Auditor's to change, not this call's result
		event.ValueFingerprint = v.fingerprint.vars(vars, sorted)
	}
	if err := withAudit(err, v.opts.audit(ctx, event)); err != nil {
		return nil, nil, err
	}
	return vars, sorted, nil
}

// Environ is Flatten as a sorted list of NAME=value strings, the form of
// exec.Cmd.Env and os.Environ.
func (v *Vault) Environ(prefix string, opts ...FlattenOption) ([]string, error) {
	return v.EnvironContext(context.Background(), prefix, opts...)
}

// EnvironContext is Environ with a context, which the Auditor receives (see
// [Auditor]).
func (v *Vault) EnvironContext(ctx context.Context, prefix string, opts ...FlattenOption) ([]string, error) {
	vars, names, err := v.flatten(ctx, OpFlatten, prefix, opts, true)
	if err != nil {
		return nil, err
	}
	return environ(vars, names), nil
}

// sortedNames returns the keys of vars, sorted.
func sortedNames(vars map[string]string) []string {
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// environ returns NAME=value for each of names, in that order: strings
// that share one allocation, as a command's environment of thousands of
// variables is made at once and dropped at once.
func environ(vars map[string]string, names []string) []string {
	return appendEnviron(make([]string, 0, len(names)), vars, names)
}

// appendEnviron appends to env what environ returns, without a slice of
// its own: a command's environment is built in one. names are the keys of
// vars, in the order wanted.
func appendEnviron(env []string, vars map[string]string, names []string) []string {
	size := 0
	for n, v := range vars { // the same names, without a lookup each
		size += len(n) + 1 + len(v)
	}
	arena := make([]byte, 0, size)
	for _, n := range names {
		start := len(arena)
		arena = append(append(append(arena, n...), '='), vars[n]...)
		env = append(env, unsafe.String(&arena[start], len(arena)-start))
	}
	return env
}
