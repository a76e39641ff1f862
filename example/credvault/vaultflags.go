package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

// vaultFlags are the flags of every command that opens or writes a vault.
type vaultFlags struct {
	c       *cli
	vault   string
	keyEnv  string
	keyFile string

	// The other routes to the key (see package custody): a key command,
	// age identities, the pin, and the time a key command or a KMS request
	// may take. route is the one that gave the key, once resolved.
	keyCmd      string
	identities  stringList
	fingerprint string
	pinGiven    bool // -key-fingerprint was on the command line, perhaps empty
	keyTimeout  time.Duration
	route       *custody.Route
	// conceal holds the age identities custody read to find the key, for
	// exec to keep from its command and mask in its output.
	conceal []string
	// newKey describes a key made by the command itself (seal -recipient),
	// for audit records: no route led to it.
	newKey string

	env                     string // the environment selected (see environment.go), or ""
	envErr                  error  // a bad $CREDVAULT_ENV, reported when the flags are used
	vaultGiven, keyEnvGiven bool   // -vault, -key-env were on the command line

	// quiet is for textconv, which git diff runs for each version: no
	// audit line on a terminal, one record per file elsewhere.
	quiet bool
	// tempNames replaces, for merge, the names of git's temporary copies
	// of a vault's versions with the vault's own path.
	tempNames *strings.Replacer

	maxAge time.Duration
	audit  string

	opts vault.Option // built once by options
}

// addVaultFlags declares the flags of a command that opens the vault named
// by -vault: -vault, -env, -key-env, -key-file, -max-age and -audit.
func addVaultFlags(fs *flag.FlagSet, c *cli) *vaultFlags {
	return declareVaultFlags(fs, c, true, true)
}

// addSealFlags declares the same flags but -max-age, for the commands that
// replace a vault whatever its age (seal, rotate).
func addSealFlags(fs *flag.FlagSet, c *cli) *vaultFlags {
	return declareVaultFlags(fs, c, true, false)
}

// addKeyFlags declares the flags of a command that git gives vault files as
// arguments (textconv, merge): those of addVaultFlags but -vault and
// -max-age.
func addKeyFlags(fs *flag.FlagSet, c *cli) *vaultFlags {
	return declareVaultFlags(fs, c, false, false)
}

func declareVaultFlags(fs *flag.FlagSet, c *cli, withVault, withMaxAge bool) *vaultFlags {
	f := &vaultFlags{c: c}
	c.vaultFlags = f
	f.addEnvFlags(fs, withVault)
	fs.StringVar(&f.keyFile, "key-file", "", "read the keyring from `file` instead of the environment")
	fs.StringVar(&f.keyCmd, "key-cmd", "", "run `command` with sh -c; its output is the keyring (default $CREDVAULT_KEY_CMD)")
	fs.Var(&f.identities, "identity", "unwrap the key from the recipients file with the age identities in `file` (repeatable; also $CREDVAULT_AGE_KEY, $CREDVAULT_AGE_KEY_FILE)")
	fs.Var(givenString{&f.fingerprint, &f.pinGiven}, "key-fingerprint", "open only a vault sealed with the key of this `fingerprint` (default $CREDVAULT_KEY_FINGERPRINT)")
	fs.DurationVar(&f.keyTimeout, "key-timeout", custody.DefaultTimeout, "stop a key command, or a KMS request, after this long")
	if withMaxAge {
		fs.DurationVar(&f.maxAge, "max-age", 0, "refuse a vault whose key last changed longer ago than this (e.g. 720h); 0 accepts any age")
	}
	fs.StringVar(&f.audit, "audit", "", "append complete audit records as JSON lines to `file` (created 0600; default $CREDVAULT_AUDIT); without one: text on stderr, one line per command on a terminal outside CI")
	return f
}

// options returns the library options every operation takes: an audit of
// every operation, with the CI pipeline's identity and where the keyring
// came from, written where its reader wants it (see auditor).
func (f *vaultFlags) options() (vault.Option, error) {
	if f.opts != nil {
		return f.opts, nil
	}
	pipeline := vault.DetectPipeline(f.c.getenv)
	auditor, err := f.auditor(pipeline)
	if err != nil {
		return nil, err
	}
	if f.quiet {
		auditor = onePerFile{auditor}
	}
	if f.tempNames != nil {
		auditor = gitNamedAuditor{auditor, f.tempNames}
	}
	f.opts = vault.Options(
		vault.WithAuditor(auditor),
		vault.WithPipeline(pipeline),
		vault.WithKeySource(f.keySource()),
	)
	return f.opts, nil
}

// maxAgeOption returns the -max-age check, for the commands that open a
// vault (a write does not check the age of what it replaces).
func (f *vaultFlags) maxAgeOption() vault.OpenOption {
	return vault.WithMaxAge(f.maxAge)
}

// openAuditFile opens an audit log for appending, creating it with mode
// 0600, and warns when others can read an existing one. It refuses, without
// waiting on it, anything but a regular file (a named pipe, a device), and
// the vault or the key file given by mistake: appending to either would
// destroy it. from says which setting named it: -audit or $CREDVAULT_AUDIT.
func (f *vaultFlags) openAuditFile(path, from string, stderr io.Writer) (*os.File, error) {
	if info, err := os.Stat(path); err == nil {
		if err := checkAuditFile(path, info); err != nil {
			return nil, err
		}
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|oNonblock, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the audit log: %w: check %s", err, from)
	}
	info, err := file.Stat()
	if err == nil {
		err = checkAuditFile(path, info)
	}
	if err == nil {
		err = f.notSameAs(info, from, path)
	}
	if err == nil {
		err = checkAuditContent(path, info, from)
	}
	if err != nil {
		file.Close()
		return nil, err
	}
	if info, err := file.Stat(); err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(stderr, "credvault: warning: audit log %s has mode %04o; chmod 600 %s\n", path, info.Mode().Perm(), path)
	}
	return file, nil
}

// keyring finds the keyring by the routes of custody.Resolver, in order:
// -key-file, the -key-env variable, -key-cmd or $CREDVAULT_KEY_CMD, then the
// vault's recipients file (age identities, KMS recipients). Its errors name
// each route and why it failed, never a key.
func (f *vaultFlags) keyring() ([]*vault.Key, error) {
	if f.envErr != nil {
		return nil, f.envErr
	}
	if f.keyEnv == "" {
		return nil, usagef("-key-env must name an environment variable")
	}
	res := f.resolver()
	if err := f.checkPin(res); err != nil {
		return nil, err
	}
	kr, err := res.Resolve(context.Background(), f.vault)
	if nk := (*custody.NoKeyError)(nil); errors.As(err, &nk) {
		for i, a := range nk.Attempts {
			nk.Attempts[i] = f.withFlags(a)
		}
		return nil, hinted(err, f.noKeyHint())
	}
	if err != nil {
		if msg, ok := strings.CutPrefix(err.Error(), "custody: the key command "); ok && f.keyCmd != "" {
			err = contextError{msg: "-key-cmd: the key command " + msg, err: err}
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, hinted(err, "give it longer with -key-timeout (now "+f.keyTimeout.String()+")")
		}
		return nil, err
	}
	f.route = &kr.Route
	f.conceal = kr.Identities()
	return kr.Keys, nil
}

// checkPin refuses a pin that is not one, and a -key-fingerprint given
// empty (as "$UNSET_VARIABLE" gives it): a command meant to pin the key
// would otherwise open any vault.
func (f *vaultFlags) checkPin(res *custody.Resolver) error {
	if f.pinGiven && strings.TrimSpace(f.fingerprint) == "" {
		return usagef("-key-fingerprint is empty: give the key's fingerprint (\"credvault status\" prints it as %s=...), or leave the flag out to open without a pin; if it comes from a variable, check that the variable is set", custody.EnvFingerprint)
	}
	if _, err := res.Pin(); err != nil {
		if f.fingerprint != "" {
			return usagef("-key-fingerprint must be 12 to 64 hex digits of the key's fingerprint, as \"credvault status\" prints it")
		}
		return usagef("%s", strings.TrimPrefix(err.Error(), "custody: "))
	}
	return nil
}

// withFlags words a route's failure for the command line: the library
// speaks of what was given, the command of its flags; an environment's key
// variable is not MASTER_KEY, and its note says so.
func (f *vaultFlags) withFlags(err error) error {
	msg := err.Error()
	switch {
	case msg == "$"+f.keyEnv+" is not set" && f.envNote() != "":
		msg += f.envNote()
	case strings.HasPrefix(msg, "no key command: none given,"):
		msg = "no key command: neither -key-cmd nor $" + custody.EnvKeyCmd + " is set"
	case strings.HasPrefix(msg, "no age identity: no identity file given"):
		msg = "no age identity: -identity is not given" + strings.TrimPrefix(msg, "no age identity: no identity file given")
	case strings.HasPrefix(msg, "KMS recipients: not tried, as identity files were given"):
		msg = "KMS recipients: not tried, as -identity was given"
	default:
		return err
	}
	return contextError{msg: msg, err: err}
}

// resolver returns the custody.Resolver the flags and the environment
// describe.
func (f *vaultFlags) resolver() *custody.Resolver {
	return &custody.Resolver{
		KeyFile:     f.keyFile,
		KeyEnv:      f.keyEnv,
		KeyCmd:      f.keyCmd,
		Identities:  f.identities,
		Fingerprint: f.fingerprint,
		Timeout:     f.keyTimeout,
		KMS:         kmsDrivers(f.c.getenv),
		Getenv:      f.c.getenv,
		Environ:     f.c.environ,
		Stderr:      f.c.stderr,
		Warn:        func(msg string) { fmt.Fprintf(f.c.stderr, "credvault: warning: %s\n", msg) },
	}
}

// noKeyHint says how to give the key when no route led to it.
func (f *vaultFlags) noKeyHint() string {
	return fmt.Sprintf("set $%s to the vault's key, pass -key-file FILE or -key-cmd COMMAND, or, with a recipients file, -identity FILE or $CREDVAULT_AGE_KEY (make a key with \"credvault keygen\", a vault for recipients with \"credvault seal -recipient\")", f.keyEnv)
}

// keyVariables names the environment variables that may hold key
// material, for exec to leave out of its child's environment whichever of
// them gave the key: -key-env's, MASTER_KEY and every MASTER_KEY_<ENV>, and
// those custody reads: the inline age identities, the identity file's name
// and the key command. The key command runs without the same. (The library
// also leaves out any variable that holds the key that opened the vault.)
func (f *vaultFlags) keyVariables() []string {
	return f.resolver().KeyVariables()
}

// keySource says where the keyring came from, for messages and audit
// events: the route that gave it once resolved ("$MASTER_KEY", "key file
// master.key", `age recipient "bob" (identity from -identity bob.txt)`),
// else where it would come from first.
func (f *vaultFlags) keySource() string {
	if f.newKey != "" {
		return f.newKey
	}
	if f.route != nil {
		r := *f.route
		switch {
		case r.Kind == custody.RouteKeyCmd && r.Source == "":
			r.Source = "-key-cmd"
		case r.Kind == custody.RouteAge && slices.Contains(f.identities, r.Source):
			r.Source = "-identity " + r.Source
		}
		return r.String()
	}
	if f.keyFile != "" {
		return "key file " + f.keyFile
	}
	return "$" + f.keyEnv
}

// readKeyFile reads a keyring from a file with the library's checks,
// warning on stderr when others than its owner can read it.
func readKeyFile(path string, stderr io.Writer) ([]*vault.Key, error) {
	return vault.ReadKeyringFile(path, func(msg string) { fmt.Fprintf(stderr, "credvault: warning: %s\n", msg) })
}

// A stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// checkAuditFile refuses an audit log that is not a regular file, other
// than the null device, which discards the records on purpose.
func checkAuditFile(path string, info fs.FileInfo) error {
	if info.Mode().IsRegular() {
		return nil
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(info, null) {
		return nil
	}
	kind := "not a regular file"
	switch mode := info.Mode(); {
	case mode&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case mode&fs.ModeDevice != 0:
		kind = "a device"
	case mode.IsDir():
		kind = "a directory"
	}
	return fmt.Errorf("the audit log %s is %s: give -audit the path of a regular file (or %s to discard the records), or leave it out to audit to stderr", path, kind, os.DevNull)
}

// checkAuditContent refuses an audit log (with info from the open file's
// stat) that holds what appending would destroy: a vault, a key file, age
// identities or a recipients file, whichever vault or key the command uses.
// It reads the start of the file only: an audit log may be large.
func checkAuditContent(path string, info fs.FileInfo, from string) error {
	if !info.Mode().IsRegular() || info.Size() == 0 {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDONLY|oNonblock, 0)
	if err != nil {
		return nil // write-only: nothing to tell from, and nothing read
	}
	defer f.Close()
	if same, err := f.Stat(); err != nil || !os.SameFile(info, same) {
		return nil
	}
	head := make([]byte, vault.MaxKeyringSize+1)
	n, _ := io.ReadFull(f, head)
	defer clear(head)
	kind := keyFileKind(head[:n], n <= vault.MaxKeyringSize)
	if kind == "" && bytes.HasPrefix(bytes.TrimSpace(head[:n]), []byte("gAAAAA")) {
		if _, err := vault.SealedAt(path); err == nil {
			kind = "a vault"
		}
	}
	if kind == "" {
		return nil
	}
	return fmt.Errorf("%s %s is %s, not an audit log: appending records would destroy it; nothing was done: give %s the path of a log file", from, path, kind, from)
}

// keyFileKind names what data is when it holds keys or says who holds them:
// age identities, a Fernet key or keyring (when whole, the whole file), a
// recipients file. It returns "" for anything else.
func keyFileKind(data []byte, whole bool) string {
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if bytes.HasPrefix(line, []byte("AGE-SECRET-KEY-1")) || bytes.HasPrefix(line, []byte("AGE-PLUGIN-")) {
			return "a file of age identities"
		}
	}
	if recipientsHead.Match(data) {
		return "a recipients file" // as custody writes one: the format first
	}
	if !whole {
		return ""
	}
	if _, err := vault.ParseKeyring(string(data)); err == nil {
		return "a key file (a Fernet key)"
	}
	var doc struct {
		Format string `json:"credvault"`
	}
	if json.Unmarshal(data, &doc) == nil && strings.HasPrefix(doc.Format, "keys/") {
		return "a recipients file"
	}
	return ""
}

// recipientsHead matches the start of a recipients file.
var recipientsHead = regexp.MustCompile(`\A\s*\{\s*"credvault"\s*:\s*"keys/`)

// notSameAs refuses a file (named by flag and path, with info from its
// stat) that is the vault or the key file: a vault written over its own key
// file, or an audit log appended to the vault, destroys it.
func (f *vaultFlags) notSameAs(info fs.FileInfo, flag, path string) error {
	for _, other := range []struct{ flag, path string }{{"-vault", f.vault}, {"-key-file", f.keyFile}} {
		if other.path == "" || other.flag == flag {
			continue
		}
		if o, err := os.Stat(other.path); err == nil && os.SameFile(info, o) {
			return usagef("%s %s is also %s %s: one file cannot be both, and a write to one would destroy the other; give each its own path", fileRole(flag), path, fileRole(other.flag), other.path)
		}
	}
	return nil
}

// fileRole names the file a flag or variable gives, for messages: a
// user who never passed -vault still has a vault.
func fileRole(flag string) string {
	switch flag {
	case "-vault":
		return "the vault"
	case "-key-file":
		return "the key file"
	}
	return "the audit file (" + flag + ")"
}

// setup returns the keyring and the library options the flags name. It
// refuses a vault that is the key file: a write would replace the key.
func (f *vaultFlags) setup() ([]*vault.Key, vault.Option, error) {
	if f.envErr != nil {
		return nil, nil, f.envErr
	}
	if f.maxAge < 0 {
		return nil, nil, usagef("-max-age %s is negative: give the longest time since the key last changed, such as 720h, or 0 for no limit", f.maxAge)
	}
	info, err := os.Stat(f.vault)
	if err == nil {
		if err := f.notSameAs(info, "-vault", f.vault); err != nil {
			return nil, nil, err
		}
	}
	if target, lerr := os.Readlink(f.vault); lerr == nil && errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s is a symbolic link to %s, which leads to no file: fix the link, or remove it to make a vault there", f.vault, target)
	}
	keys, err := f.keyring()
	if err != nil {
		return nil, nil, err
	}
	opts, err := f.options()
	if err != nil {
		return nil, nil, err
	}
	return keys, opts, nil
}

// open opens the vault the flags name with the keyring they name.
func (f *vaultFlags) open() (*vault.Vault, error) {
	keys, opts, err := f.setup()
	if err != nil {
		return nil, err
	}
	v, err := vault.Open(f.vault, keys, opts, f.maxAgeOption())
	if err != nil {
		return nil, keyError{err: err, source: f.keySource()}
	}
	return v, nil
}

// within puts err in context ("$MASTER_KEY: ...") without the library's
// "vault: " prefix in the middle of the message; errors.Is still sees err.
func within(context string, err error) error {
	return contextError{msg: context + ": " + strings.TrimPrefix(err.Error(), "vault: "), err: err}
}

type contextError struct {
	msg string
	err error
}

func (e contextError) Error() string { return e.msg }
func (e contextError) Unwrap() error { return e.err }

// A keyError is an error from opening a vault, with where the keyring came
// from, so that report can say which variable or file to fix.
type keyError struct {
	err    error
	source string
}

func (e keyError) Error() string { return e.err.Error() }
func (e keyError) Unwrap() error { return e.err }

// hinted returns err with advice that report prints after it.
func hinted(err error, hint string) error { return hintError{err: err, hint: hint} }

type hintError struct {
	err  error
	hint string
}

func (e hintError) Error() string { return e.err.Error() }
func (e hintError) Unwrap() error { return e.err }

// hint returns advice for the commonest mistakes, or "".
func hint(err error) string {
	var ke keyError
	errors.As(err, &ke)
	if he := (hintError{}); errors.As(err, &he) {
		return he.hint
	}
	switch {
	case errors.Is(err, vault.ErrWrongKey):
		return fmt.Sprintf("the keyring came from %s; use the key the vault was sealed with, or \"new,old\" during a rotation", ke.source)
	case errors.Is(err, fs.ErrNotExist) && ke.source != "":
		return "pass -vault FILE, or create a vault with \"credvault seal secrets.json\""
	case errors.Is(err, vault.ErrConflict):
		return "" // the message says how to merge
	case errors.Is(err, vault.ErrMalformed) && strings.Contains(err.Error(), ", not a vault: give the vault's own path"):
		return "pass the vault with -vault FILE, and a key file with -key-file FILE or age identities with -identity FILE"
	case errors.Is(err, vault.ErrMalformed):
		return "if this is the plaintext JSON, seal it with \"credvault seal FILE\""
	}
	return ""
}
