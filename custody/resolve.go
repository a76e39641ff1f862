package custody

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/credvault/vault"
)

// The environment variables a [Resolver] reads through its Getenv.
const (
	// DefaultKeyEnv is the variable that holds a raw keyring unless
	// Resolver.KeyEnv names another.
	DefaultKeyEnv = "MASTER_KEY"
	// EnvKeyCmd holds a key command, unless Resolver.KeyCmd is set.
	EnvKeyCmd = "CREDVAULT_KEY_CMD"
	// EnvAgeKey holds age identities inline (AGE-SECRET-KEY-1...), for CI.
	EnvAgeKey = "CREDVAULT_AGE_KEY"
	// EnvAgeKeyFile names a file of age identities; without it, the
	// default is $XDG_CONFIG_HOME/credvault/age-keys.txt
	// (~/.config/credvault/age-keys.txt; %AppData%\credvault\age-keys.txt
	// on Windows).
	EnvAgeKeyFile = "CREDVAULT_AGE_KEY_FILE"
	// EnvFingerprint pins the key, unless Resolver.Fingerprint is set.
	EnvFingerprint = "CREDVAULT_KEY_FINGERPRINT"
)

// DefaultTimeout bounds a key command and each KMS request when
// Resolver.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// A Resolver finds the key of a vault. It tries these routes in order and
// takes the first that yields a key:
//
//  1. KeyFile, a file holding a keyring ([vault.ReadKeyringFileContext]);
//  2. the variable KeyEnv (default MASTER_KEY), holding a keyring;
//  3. a key command, KeyCmd or else $CREDVAULT_KEY_CMD: run with "sh -c",
//     its standard output is the keyring (see below);
//  4. the vault's recipients file, <vault>.keys ([KeysPath]): first each
//     age recipient, with the age identities from the files in Identities
//     or, when none is given, from $CREDVAULT_AGE_KEY (inline) and from
//     $CREDVAULT_AGE_KEY_FILE or its default; then, unless Identities are
//     given, each KMS recipient, through the [Driver] of its scheme in KMS,
//     with the ambient credentials of the process.
//
// When the vault exists and a later route could give its key, a keyring
// from the variable or from $CREDVAULT_KEY_CMD must open the vault: a stale
// MASTER_KEY left in a shell does not hide a working key command or
// identity. If no later route leads to the key either, that keyring is
// returned, and opening the vault with it fails with [vault.ErrWrongKey],
// naming where it came from (a new vault may be sealed over another under a
// new key). A key unwrapped from a recipient must have the fingerprint the
// file records, must be unwrapped by the identity of the recipient it is
// listed for, and must open the vault; otherwise that recipient fails and
// the next is tried. If the recipients file fails (it does not match the
// vault) and a write was interrupted between replacing the vault and
// replacing the file, the pending file that [vault.WithSidecar] leaves is
// tried next.
//
// Routes given by the caller explicitly (KeyFile, KeyCmd, Identities) are
// authoritative: if one fails, Resolve fails with its error. Routes from the
// environment that fail are noted, and the next route is tried; when a
// later one succeeds, Warn is told of the earlier failure. When every route
// fails, the error is a *[NoKeyError] that lists each route tried and why it
// failed. No error and no warning ever holds a key.
//
// # Pinning
//
// Anyone can wrap a key of their own to a public age recipient, and anyone
// allowed kms:Encrypt on a KMS key can wrap to it: whoever can write the
// repository could replace the vault and its recipients file with a vault of
// their own (their own database, their own deploy target) that a pipeline
// would open without complaint. Fingerprint (or $CREDVAULT_KEY_FINGERPRINT)
// pins the key: the vault opens only with the key whose long fingerprint
// ([vault.Key.LongFingerprint]) starts with it, whatever the route. Keep the
// pin where the repository's writers cannot change it (a CI variable), and
// update it after each rotation. Give all 64 hex digits: 12 are accepted,
// but a forger can find a key matching 12 with about 2^48 hashes.
//
// # Key commands
//
// The key command's standard error is passed to Stderr; its standard output
// is never shown, not even in an error. It runs with Environ's variables
// minus those that hold or lead to key material ([Resolver.KeyVariables]),
// with empty standard input, and is killed (with its process group, on
// Unix) after Timeout. At a terminal, where this process is in the
// foreground, it may prompt there ("op read" asking for a password): it
// then runs in this process's group, as a shell's foreground job, and
// Timeout kills the shell alone. Its failure is reported with its exit
// status.
//
// A Resolver reads the environment only through Getenv and Environ; it is
// not safe for concurrent use by several goroutines.
type Resolver struct {
	KeyFile     string   // a file holding the keyring (the CLI's -key-file)
	KeyEnv      string   // the variable holding the keyring; "" means MASTER_KEY (-key-env)
	KeyCmd      string   // a command printing the keyring; "" means $CREDVAULT_KEY_CMD (-key-cmd)
	Identities  []string // files of age identities (-identity)
	Fingerprint string   // the pin; "" means $CREDVAULT_KEY_FINGERPRINT (-key-fingerprint)

	// Timeout bounds the key command and each KMS request; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// KMS holds the drivers for the kms recipients' URL schemes.
	KMS []Driver

	// Getenv and Environ are the process environment (os.Getenv,
	// os.Environ); nil means an empty one.
	Getenv  func(string) string
	Environ func() []string
	// Stderr receives the key command's standard error; nil discards it.
	Stderr io.Writer
	// Warn, if not nil, is told of things worth fixing that did not stop
	// the key from being found: a key file others can read, a route from
	// the environment that failed before another succeeded.
	Warn func(msg string)
}

// A Keyring is what [Resolver.Resolve] found: the keys, newest first, and
// the route that gave them.
type Keyring struct {
	Keys  []*vault.Key
	Route Route

	// identities returns the age identities read on the way; a func, as
	// vault.Key's secret is, so that printing a Keyring shows none.
	identities func() []string
}

// Identities returns the age identities (AGE-SECRET-KEY-1...) that Resolve
// read from files or the environment on its way to the keys, whichever of
// them unwrapped the key: secrets of the caller's that a command run with
// the vault's secrets must neither get nor print. Give them to
// vault.Command's Conceal. Never print them.
func (k *Keyring) Identities() []string {
	if k == nil || k.identities == nil {
		return nil
	}
	return k.identities()
}

// A RouteKind names a route to the key.
type RouteKind string

// The routes, in the order a Resolver tries them.
const (
	RouteKeyFile RouteKind = "key-file"
	RouteKeyEnv  RouteKind = "key-env"
	RouteKeyCmd  RouteKind = "key-cmd"
	RouteAge     RouteKind = "age"
	RouteKMS     RouteKind = "kms"
)

// A Route says where a keyring came from, without the key: for audit
// events, status output and messages.
type Route struct {
	Kind RouteKind
	// Source is the key file's path, the variable's name, "" for
	// Resolver.KeyCmd or "$CREDVAULT_KEY_CMD", where the age identity came
	// from (the identity file's path or "$CREDVAULT_AGE_KEY"), or the KMS
	// URL.
	Source string
	// Label and ID name the recipient, for the age and kms routes: the one
	// whose identity (or KMS key) unwrapped the key.
	Label, ID string
	// File is the recipients file the key was unwrapped from: <vault>.keys,
	// or its pending file after an interrupted write.
	File string
}

// String describes the route: "key file ci.key", "$MASTER_KEY", "key
// command", "key command ($CREDVAULT_KEY_CMD)", `age recipient "bob"
// (identity from bob.txt)`, `kms recipient "ci" (awskms:///...)`.
func (r Route) String() string {
	name := r.ID
	if r.Label != "" {
		name = fmt.Sprintf("%q", r.Label)
	}
	switch r.Kind {
	case RouteKeyFile:
		return "key file " + r.Source
	case RouteKeyEnv:
		return "$" + r.Source
	case RouteKeyCmd:
		if r.Source == "" {
			return "key command"
		}
		return "key command (" + r.Source + ")"
	case RouteAge:
		return fmt.Sprintf("age recipient %s (identity from %s)", name, r.Source)
	case RouteKMS:
		if r.Label == "" {
			return "kms recipient " + r.ID
		}
		return fmt.Sprintf("kms recipient %s (%s)", name, r.ID)
	}
	return "no route"
}

// ErrNoKey means that no route led to the vault's key; the error is a
// *NoKeyError that says why each failed.
var ErrNoKey = errors.New("custody: no route to the key")

// A NoKeyError lists every route to a vault's key that was tried, and why
// each failed. errors.Is(err, ErrNoKey) reports true for it.
type NoKeyError struct {
	Vault    string
	Attempts []error // one per route, each naming the route; never a key
}

func (e *NoKeyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "custody: no key for %s: every route to it failed:", e.Vault)
	for _, a := range e.Attempts {
		b.WriteString("\n  - ")
		b.WriteString(strings.TrimPrefix(strings.TrimPrefix(a.Error(), "custody: "), "vault: "))
	}
	return b.String()
}

// Is reports whether target is ErrNoKey.
func (e *NoKeyError) Is(target error) bool { return target == ErrNoKey }

// KeyVariables returns the environment variables that hold key material
// or lead to it for this Resolver: the keyring variable, MASTER_KEY and
// every MASTER_KEY_<NAME> that Environ holds (the keyrings of other
// environments), $CREDVAULT_AGE_KEY, $CREDVAULT_AGE_KEY_FILE and
// $CREDVAULT_KEY_CMD. The key command runs without them; a program that
// starts a child (a command given the secrets) removes them from the
// child's environment, whatever the route was.
//
// Ambient cloud credentials (AWS_*, GOOGLE_APPLICATION_CREDENTIALS, ...)
// are not among them: they are the job's identity, which a deploy usually
// needs, and they open the vault only through the KMS, whose log records it.
func (r *Resolver) KeyVariables() []string {
	vars := []string{r.keyEnv(), DefaultKeyEnv, EnvAgeKey, EnvAgeKeyFile, EnvKeyCmd}
	if r.Environ != nil {
		for _, kv := range r.Environ() {
			name, _, _ := strings.Cut(kv, "=")
			if strings.HasPrefix(name, DefaultKeyEnv+"_") && !slices.Contains(vars, name) {
				vars = append(vars, name)
			}
		}
	}
	return slices.Compact(vars)
}

func (r *Resolver) keyEnv() string {
	if r.KeyEnv != "" {
		return r.KeyEnv
	}
	return DefaultKeyEnv
}

func (r *Resolver) getenv(name string) string {
	if r.Getenv == nil {
		return ""
	}
	return r.Getenv(name)
}

func (r *Resolver) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultTimeout
}

func (r *Resolver) warn(msg string) {
	if r.Warn != nil {
		r.Warn(msg)
	}
}

// Pin returns the pinned fingerprint, lower-cased, from Fingerprint or
// $CREDVAULT_KEY_FINGERPRINT, or "" if the key is not pinned. A pin that is
// not 12 to 64 hex digits is an error; so is a variable that is set but
// empty (a CI variable that is missing from the settings expands to ""):
// a pipeline that means to pin would otherwise open any vault.
func (r *Resolver) Pin() (string, error) {
	pin, source := r.Fingerprint, "the pinned fingerprint (Resolver.Fingerprint)"
	if pin == "" {
		pin, source = r.getenv(EnvFingerprint), "$"+EnvFingerprint
		if strings.TrimSpace(pin) == "" && r.isSet(EnvFingerprint) {
			return "", fmt.Errorf("custody: $%s is set but empty: set it to the key's fingerprint (64 hex digits) to pin the key, or unset it to open without a pin; in CI, check that the variable it is set from exists", EnvFingerprint)
		}
	}
	pin = strings.ToLower(strings.TrimSpace(pin))
	if pin == "" {
		return "", nil
	}
	if len(pin) < 12 || len(pin) > 64 || strings.Trim(pin, "0123456789abcdef") != "" {
		return "", fmt.Errorf("custody: %s must be 12 to 64 hex digits of the key's fingerprint (vault.Key.LongFingerprint)", source)
	}
	return pin, nil
}

// isSet reports whether the variable name is in Environ, even empty.
func (r *Resolver) isSet(name string) bool {
	if r.Environ == nil {
		return false
	}
	return slices.ContainsFunc(r.Environ(), func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
}

// Resolve finds the key of the vault at vaultPath by the routes above.
func (r *Resolver) Resolve(ctx context.Context, vaultPath string) (*Keyring, error) {
	if err := r.checkNames(); err != nil {
		return nil, err
	}
	pin, err := r.Pin()
	if err != nil {
		return nil, err
	}
	// Identity files given explicitly are read first, whatever the route,
	// so that a mistake in one is reported rather than unnoticed.
	explicit, err := r.explicitIdentities(ctx)
	if err != nil {
		return nil, err
	}
	// 1. The key file, when given, is the only route.
	if r.KeyFile != "" {
		keys, err := vault.ReadKeyringFileContext(ctx, r.KeyFile, r.warn)
		if err == nil {
			keys, err = pinned(keys, pin, "key file "+r.KeyFile)
		}
		if err != nil {
			return nil, err
		}
		return &Keyring{Keys: keys, Route: Route{Kind: RouteKeyFile, Source: r.KeyFile}}, nil
	}

	s := search{r: r, vault: vaultPath}
	command, source := r.KeyCmd, ""
	if command == "" {
		command, source = r.getenv(EnvKeyCmd), "$"+EnvKeyCmd
	}
	recipients := exists(KeysPath(vaultPath)) || exists(vault.PendingSidecar(KeysPath(vaultPath)))

	// 2. The keyring variable.
	name := r.keyEnv()
	if r.getenv(name) != "" {
		keys, err := vault.KeyringFromEnv(r.getenv, name)
		if err == nil {
			keys, err = pinned(keys, pin, "$"+name)
		}
		if err != nil {
			s.fail(err, true)
		} else if kr := (&Keyring{Keys: keys, Route: Route{Kind: RouteKeyEnv, Source: name}}); s.opens(kr, command != "" || recipients) {
			return s.found(kr)
		}
	} else {
		s.fail(fmt.Errorf("$%s is not set", name), false)
	}

	// 3. The key command.
	if command != "" {
		what := "the key command"
		if source != "" {
			what += " (" + source + ")"
		}
		keys, err := runKeyCommand(ctx, command, r.childEnv(), r.Stderr, r.timeout())
		if err != nil {
			err = fmt.Errorf("%s %w", what, err)
		} else {
			keys, err = pinned(keys, pin, what)
		}
		if err != nil && r.KeyCmd != "" {
			return nil, fmt.Errorf("custody: %w", err)
		}
		// A key command given explicitly is authoritative: its keyring is
		// taken whether or not it opens the vault.
		if err != nil {
			s.fail(err, true)
		} else if kr := (&Keyring{Keys: keys, Route: Route{Kind: RouteKeyCmd, Source: source}}); r.KeyCmd != "" || s.opens(kr, recipients) {
			return s.found(kr)
		}
	} else {
		s.fail(fmt.Errorf("no key command: none given, and $%s is not set", EnvKeyCmd), false)
	}

	// 4. The recipients file.
	kr, recipientAttempts := r.fromRecipients(ctx, vaultPath, pin, explicit)
	if kr != nil {
		return s.found(kr)
	}
	s.attempts = append(s.attempts, recipientAttempts...)
	if s.fallback != nil {
		// No route opens the vault: the first keyring is returned, and
		// opening with it says which key it is and where it came from.
		return s.fallback, nil
	}
	return nil, &NoKeyError{Vault: vaultPath, Attempts: s.attempts}
}

// A search is the state of one Resolve: the routes that failed, and the
// first keyring that did not open the vault.
type search struct {
	r        *Resolver
	vault    string
	attempts []error // every route tried, for a NoKeyError
	failures []error // the routes that were set and failed, to warn about
	fallback *Keyring
}

func (s *search) fail(err error, set bool) {
	s.attempts = append(s.attempts, err)
	if set {
		s.failures = append(s.failures, err)
	}
}

// found returns kr, and warns of the routes set before it that failed.
func (s *search) found(kr *Keyring) (*Keyring, error) {
	for _, err := range s.failures {
		s.r.warn(fmt.Sprintf("%s; the key came from %s instead", trimPrefixes(err), kr.Route))
	}
	return kr, nil
}

// opens reports whether kr opens the vault, or whether it may be taken
// without checking: when no later route could be tried instead, or the
// vault does not open for another reason than the key (it does not exist:
// a seal is about to create it), which the caller will report. A keyring
// that does not open the vault is failed with a note, and kept as the
// fallback.
func (s *search) opens(kr *Keyring, later bool) bool {
	if !later {
		return true
	}
	_, err := vault.Open(s.vault, kr.Keys)
	if !errors.Is(err, vault.ErrWrongKey) {
		return true
	}
	if s.fallback == nil {
		s.fallback = kr
	}
	fps := make([]string, len(kr.Keys))
	for i, k := range kr.Keys {
		fps[i] = k.Fingerprint()
	}
	s.fail(fmt.Errorf("%s holds key %s, which does not open %s", kr.Route, strings.Join(fps, ", "), s.vault), true)
	return false
}

func trimPrefixes(err error) string {
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "custody: "), "vault: ")
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// checkNames refuses a key or an age identity given where a variable's
// name or a command belongs, without quoting it: the shell would print a
// command that is a key in its "not found" message. (Paths are checked
// where they are read. A command may hold a key among its words, as
// "echo KEY" does.)
func (r *Resolver) checkNames() error {
	for _, c := range []struct {
		what, value, instead string
		alone                bool
	}{
		{"KeyEnv, the name of the keyring's variable,", r.KeyEnv, "give the variable's name and put the key in it", false},
		{"KeyCmd, the key command,", r.KeyCmd, "give a command that prints the key", true},
		{"$" + EnvKeyCmd + ", the key command,", r.getenv(EnvKeyCmd), "set it to a command that prints the key, or put the key in $" + DefaultKeyEnv, true},
	} {
		if c.value == "" {
			continue
		}
		secret := vault.LooksLikeKey(c.value)
		if c.alone {
			_, err := vault.ParseKeyring(c.value)
			secret = err == nil || strings.HasPrefix(strings.ToUpper(strings.TrimSpace(c.value)), "AGE-")
		}
		if secret {
			return fmt.Errorf("custody: %s is a key or an age identity itself: %s", c.what, c.instead)
		}
	}
	return nil
}

// pinned returns the pinned key of a keyring, alone, or the keyring itself
// when nothing is pinned.
func pinned(keys []*vault.Key, pin, source string) ([]*vault.Key, error) {
	if pin == "" {
		return keys, nil
	}
	for _, k := range keys {
		if strings.HasPrefix(k.LongFingerprint(), pin) {
			return []*vault.Key{k}, nil
		}
	}
	return nil, fmt.Errorf("%s holds no key with the pinned fingerprint %s", source, short(pin))
}

func short(pin string) string { return pin[:min(12, len(pin))] }

// childEnv is the key command's environment: Environ without KeyVariables.
func (r *Resolver) childEnv() []string {
	if r.Environ == nil {
		return []string{}
	}
	drop := r.KeyVariables()
	env := []string{}
	for _, kv := range r.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(drop, name) {
			env = append(env, kv)
		}
	}
	return env
}

// fromRecipients tries the vault's recipients file, then its pending file,
// with the explicit identities, or else those of the environment.
func (r *Resolver) fromRecipients(ctx context.Context, vaultPath, pin string, explicit []identitySource) (*Keyring, []error) {
	keysPath := KeysPath(vaultPath)
	var attempts []error
	var ids []identitySource
	loaded := false
	for _, path := range []string{keysPath, vault.PendingSidecar(keysPath)} {
		f, err := ReadFile(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				if path == keysPath {
					attempts = append(attempts, fmt.Errorf("%s does not exist", path))
				}
				continue
			}
			attempts = append(attempts, err)
			continue
		}
		if path != keysPath {
			attempts = append(attempts, fmt.Errorf("%s, left by an interrupted write, was tried as well:", path))
		}
		if !loaded && (len(explicit) > 0 || slices.ContainsFunc(f.Recipients, func(rc Recipient) bool { return rc.Type == Age })) {
			var idAttempts []error
			ids, idAttempts = r.identities(ctx, explicit)
			attempts = append(attempts, idAttempts...)
			loaded = true
		}
		kr, fileAttempts := r.tryFile(ctx, vaultPath, path, f, ids, pin)
		if kr != nil {
			var read []string
			for _, src := range ids {
				for _, id := range src.ids {
					read = append(read, id.String())
				}
			}
			kr.identities = func() []string { return read }
			return kr, nil
		}
		attempts = append(attempts, fileAttempts...)
	}
	return nil, attempts
}

// tryFile tries each recipient of one recipients file, age ones first, then
// KMS ones unless identities were given explicitly.
func (r *Resolver) tryFile(ctx context.Context, vaultPath, path string, f *File, ids []identitySource, pin string) (*Keyring, []error) {
	if pin != "" && f.Key != short(pin) {
		return nil, []error{fmt.Errorf("%s records key %s, not the pinned %s: refused (was the vault sealed again under another key? check its history; after a rotation, update the pin)", path, f.Key, short(pin))}
	}
	var attempts []error
	var unmatched []string
	for _, rc := range f.Recipients {
		if rc.Type != Age || len(ids) == 0 {
			continue
		}
		key, src, by, err := unwrapAgeWith(rc.Wrapped, ids)
		if errors.Is(err, errNoIdentity) {
			unmatched = append(unmatched, rc.Name())
			continue
		}
		if err == nil && by != rc.ID {
			err = inconsistent(f, rc, by)
		}
		if err == nil {
			err = r.accept(vaultPath, path, f, key, pin)
		}
		if err == nil {
			return &Keyring{Keys: []*vault.Key{key}, Route: Route{Kind: RouteAge, Source: src, Label: rc.Label, ID: rc.ID, File: path}}, nil
		}
		attempts = append(attempts, fmt.Errorf("%s: %w", rc, err))
	}
	if len(unmatched) > 0 {
		attempts = append(attempts, fmt.Errorf("age recipients %s: none matches the identities from %s", strings.Join(unmatched, ", "), identityNames(ids)))
	}
	if len(r.Identities) > 0 {
		if slices.ContainsFunc(f.Recipients, func(rc Recipient) bool { return rc.Type == KMS }) {
			attempts = append(attempts, errors.New("KMS recipients: not tried, as identity files were given"))
		}
		return nil, attempts
	}
	for _, rc := range f.Recipients {
		if rc.Type != KMS {
			continue
		}
		key, err := r.unwrapKMS(ctx, rc, f)
		if err == nil {
			err = r.accept(vaultPath, path, f, key, pin)
		}
		if err == nil {
			return &Keyring{Keys: []*vault.Key{key}, Route: Route{Kind: RouteKMS, Source: rc.ID, Label: rc.Label, ID: rc.ID, File: path}}, nil
		}
		attempts = append(attempts, fmt.Errorf("%s: %w", rc, err))
	}
	return nil, attempts
}

// inconsistent is the error for a wrapped key listed for rc that the
// identity of another recipient, by, unwrapped: wrapped keys were swapped
// or copied between entries, so the file does not say who opens the vault.
func inconsistent(f *File, rc Recipient, by string) error {
	name := by
	if i := f.Find(by); i >= 0 {
		name = f.Recipients[i].String()
	}
	return fmt.Errorf("the recipients file is inconsistent: the key wrapped for this recipient unwraps with the identity of %s: restore the file from version control", name)
}

func (r *Resolver) unwrapKMS(ctx context.Context, rc Recipient, f *File) (*vault.Key, error) {
	u, d, err := drivers(r.KMS).check(rc.ID)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	plain, err := d.Unwrap(rctx, u, rc.Wrapped, Binding{Fingerprint: f.Key})
	defer clear(plain)
	if err != nil {
		if ctx.Err() == nil && rctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("no answer within %s: is the KMS endpoint reachable? (%w)", r.timeout(), err)
		}
		return nil, err
	}
	key, err := vault.ParseKey(string(plain))
	if err != nil {
		return nil, errors.New("the KMS unwrapped something that is not a key")
	}
	return key, nil
}

// accept checks an unwrapped key: the fingerprint the file records, the
// pin, and that it opens the vault.
func (r *Resolver) accept(vaultPath, path string, f *File, key *vault.Key, pin string) error {
	if !f.matches(key) {
		return fmt.Errorf("unwraps to key %s, not the key %s that %s records: the file was changed by hand; restore it", key.Fingerprint(), f.Key, path)
	}
	if pin != "" && !strings.HasPrefix(key.LongFingerprint(), pin) {
		return fmt.Errorf("unwraps to key %s, not the pinned %s: refused", key.Fingerprint(), short(pin))
	}
	if _, err := vault.Open(vaultPath, []*vault.Key{key}); err != nil {
		if errors.Is(err, vault.ErrWrongKey) {
			return fmt.Errorf("unwraps to key %s, which does not open %s: %s is stale (was the vault sealed or rotated without it?)", key.Fingerprint(), vaultPath, path)
		}
		return err
	}
	return nil
}

// An identitySource is a set of age identities and where they came from.
type identitySource struct {
	name string
	ids  []*age.X25519Identity
}

// unwrapAgeWith unwraps with each identity in turn, and says which source
// it came from and which recipient it is the identity of.
func unwrapAgeWith(wrapped []byte, sources []identitySource) (key *vault.Key, source, recipient string, err error) {
	for _, src := range sources {
		for _, id := range src.ids {
			key, err := unwrapAge(wrapped, id)
			if !errors.Is(err, errNoIdentity) {
				return key, src.name, id.Recipient().String(), err
			}
		}
	}
	return nil, "", "", errNoIdentity
}

func identityNames(ids []identitySource) string {
	names := make([]string, len(ids))
	for i, s := range ids {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// explicitIdentities reads the files of Identities; an error in one stops
// the resolution.
func (r *Resolver) explicitIdentities(ctx context.Context) ([]identitySource, error) {
	var sources []identitySource
	for _, path := range r.Identities {
		ids, err := r.readIdentities(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("custody: %w", err)
		}
		sources = append(sources, identitySource{name: path, ids: ids})
	}
	return sources, nil
}

// identities returns the age identities: the explicit ones if any, else
// those of $CREDVAULT_AGE_KEY, and of $CREDVAULT_AGE_KEY_FILE or the
// default file. Failures of the environment's sources are returned as
// attempts; so is the absence of any identity.
func (r *Resolver) identities(ctx context.Context, explicit []identitySource) ([]identitySource, []error) {
	if len(explicit) > 0 {
		return explicit, nil
	}
	var sources []identitySource
	var attempts []error
	absent := []string{"no identity file given"}
	if s := r.getenv(EnvAgeKey); s != "" {
		ids, err := parseIdentities("$"+EnvAgeKey, []byte(s))
		if err != nil {
			attempts = append(attempts, err)
		} else {
			sources = append(sources, identitySource{name: "$" + EnvAgeKey, ids: ids})
		}
	} else {
		absent = append(absent, "$"+EnvAgeKey+" is not set")
	}
	path, named := r.getenv(EnvAgeKeyFile), true
	if path == "" {
		path, named = defaultAgeKeyFile(r.getenv), false
	}
	switch {
	case path == "":
		absent = append(absent, "no "+EnvAgeKeyFile+" and no home directory")
	case named && vault.LooksLikeKey(path):
		attempts = append(attempts, fmt.Errorf("$%s holds an age identity or a key, not the path of a file: put the identity in $%s instead", EnvAgeKeyFile, EnvAgeKey))
	default:
		ids, err := r.readIdentities(ctx, path)
		switch {
		case err == nil:
			sources = append(sources, identitySource{name: path, ids: ids})
		case errors.Is(err, fs.ErrNotExist) && !named:
			absent = append(absent, path+" does not exist")
		default:
			attempts = append(attempts, err)
		}
	}
	if len(sources) == 0 {
		attempts = append(attempts, fmt.Errorf("no age identity: %s", strings.Join(absent, ", ")))
	}
	return sources, attempts
}

// readIdentities reads a file of age identities, warning when others can
// read it. A pipe is read until its writer closes it or ctx is done; a
// named pipe nobody writes to fails at once (see [vault.ReadSecretFile]).
func (r *Resolver) readIdentities(ctx context.Context, path string) ([]*age.X25519Identity, error) {
	if vault.LooksLikeKey(path) {
		return nil, errors.New("the name of an age identity file is an age identity or a key itself: give the file's path, or put the identity in $" + EnvAgeKey)
	}
	data, info, err := vault.ReadSecretFile(ctx, path, maxIdentitySize)
	defer clear(data)
	if err != nil {
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, &fileError{msg: fmt.Sprintf("age identity file %s does not exist", path), err: err}
		case errors.As(err, &pe):
			return nil, &fileError{msg: fmt.Sprintf("cannot read age identity file %s: %v", path, pe.Err), err: err}
		}
		return nil, &fileError{msg: fmt.Sprintf("age identity file %s %v", path, err), err: err}
	}
	if perm := info.Mode().Perm(); info.Mode().IsRegular() && perm&0o077 != 0 {
		r.warn(fmt.Sprintf("age identity file %s has mode %04o; others can read it: chmod 600 %s", path, perm, path))
	}
	return parseIdentities("age identity file "+path, data)
}

// defaultAgeKeyFile returns the default identity file, or "" without a
// home or configuration directory.
func defaultAgeKeyFile(getenv func(string) string) string {
	const rel = "credvault/age-keys.txt"
	if runtime.GOOS == "windows" {
		if dir := getenv("APPDATA"); dir != "" {
			return filepath.Join(dir, filepath.FromSlash(rel))
		}
		return ""
	}
	if dir := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, rel)
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".config", rel)
	}
	return ""
}
