// Package vault keeps a deployment pipeline's credentials in one
// Fernet-encrypted file and hands them out on demand.
//
// A vault file is exactly one Fernet token whose plaintext is a UTF-8 JSON
// object: the file Python's cryptography.fernet writes with
// Fernet(key).encrypt(json.dumps(secrets).encode()). Vaults written by Python
// open here, and vaults written here open with Python or any other Fernet
// implementation.
//
// The common case is to open a vault with the keyring from the environment
// and read one value:
//
//	keys, err := vault.ParseKeyring(os.Getenv("MASTER_KEY"))
//	if err != nil { ... }
//	v, err := vault.Open("credentials.enc", keys)
//	if err != nil { ... }
//	password, err := v.Get("database.password")
//
// [Seal] writes a vault from a map or a struct; [OpenFS] opens one embedded
// with //go:embed; [OpenBytes] and [SealTo] read and write vaults kept in
// memory or object storage; [Update] changes values in place, through a
// [Tx] ([Tx.Set], [Tx.Delete]): a Vault has no method that changes it.
// [Vault.Lookup] asks whether an optional value is there, and
// [Vault.Decode] reads a subtree into a Go struct. Every error says which
// file and which credential path it concerns and what to do, and can be
// told apart with errors.Is: [ErrWrongKey], [ErrMalformed], [ErrExpired],
// [ErrNotJSON], [ErrNotFound], [ErrNotScalar], [ErrNotOpened], [ErrLocked],
// [ErrSameKey], [ErrConflict], [ErrTxDone], [ErrAudit].
// Tests that need secrets use package vaulttest.
//
// # Keys and keyrings
//
// A [Key] is Python's Fernet key, 44 characters of URL-safe base64
// ([GenerateKey], [ParseKey], [SaveKey]). A keyring is a list of keys, newest
// first, as [ParseKeyring] reads it from "new,old": the first key seals, any
// key opens, and the [Vault] remembers which one did ([Vault.KeyIndex]). A Key
// never prints its secret, whatever the format verb; [Key.Fingerprint] names
// it safely. [ReadKeyringFile] and [KeyringFromEnv] read a keyring with the
// checks a key file and a variable need. Package custody keeps the key for
// recipients (age identities, cloud KMS keys) in a file beside the vault, so
// that no one need hold it raw; [WithSidecar] is how its writes follow the
// vault's.
//
// # Key rotation
//
// [Rotate] re-seals a vault under a new key without touching pipeline code:
// put the new key in front of the keyring ("new,old"), rotate, and drop the
// old key once every vault opens with the first key. Rotate verifies the new
// vault before it replaces the old one, and renews its timestamp. A
// vault's timestamp says when its key last changed: [Update], and [Seal]
// over a vault with the same key, keep it, so that [WithMaxAge] means
// "rotated at least this often" and no change of a value can satisfy it.
// Rotate refuses a rotation to the key already in use.
//
// # Auditing
//
// [WithAuditor] records every operation, successful or not, as an [Event]:
// the operation, the vault file, the credential path or variable names, the
// key's fingerprint and position in the keyring, where the keyring came from
// ([WithKeySource]), the CI run ([WithPipeline], [DetectPipeline]) and a keyed
// fingerprint of the values released; never a value. [NewSlogAuditor] writes
// events to a *slog.Logger. Auditing fails closed: if the Auditor cannot
// record an operation, the operation fails with [ErrAudit] and releases
// nothing; [WithAuditFailOpen] chooses availability instead.
//
// Each operation has a Context form, as database/sql has Query and
// QueryContext: [OpenContext], [Vault.GetContext], [SealContext] and the
// others pass the caller's context to the Auditor, so that a slog handler
// records the request's trace id and a remote Auditor honours its deadline.
// The plain forms pass context.Background(). A nil context is an error,
// as it is for net/http's NewRequestWithContext, never a panic.
//
// # Exporting to CI
//
// [Vault.Flatten] turns the document into environment variables with one
// published naming rule (APP_DATABASE_PASSWORD), and refuses, rather than
// overwrites, two paths that give one name. [Vault.Export] writes them with
// an [Exporter]: [ExportShell], [ExportDotenv], [ExportJSON], [GitHubExporter]
// (masks first, then $GITHUB_ENV entries with random delimiters),
// [ExportGitLab] and [ExportAzure].
//
// # Running a command with the secrets
//
// [Vault.Run] runs a [Command] with the secrets in its environment only:
// the key variables left out, the environment checked against the kernel's
// limits, each output stream through its own [Redactor] (which masks the
// secrets, their encoded forms and the key), signals relayed, SIGTERM then
// a kill when the context is done, and an [ExitError] with the status a
// shell would give (128+N after signal N, 127 not found, 126 not runnable).
// [RunCmd] does the same for a child without secrets, such as an editor.
//
// # Writing safely
//
// [Seal], [Rotate] and [Update] replace a vault atomically and durably: a
// temporary file (mode 0600) beside the vault, fsync, rename, fsync of the
// directory. A failure or a kill at any moment leaves the previous vault
// byte-identical. Writers of one vault are serialized by a lock of that
// vault (on Unix an flock(2) of the file itself, on Windows a LockFileEx
// lock of a hidden .NAME.lock file beside it, which the last writer
// removes); writers of other vaults in the same directory do not wait. See
// [WithLockTimeout]. A write never replaces
// what is not a vault: Seal refuses a JSON document or a link to one unless
// given [WithReplaceAny], and a file of keys (a key file, age identities, a
// recipients file), a directory, a named pipe or a device always;
// [WithNoClobber] makes it refuse any existing file.
//
// # Security considerations
//
// Errors, audit events, and the String, GoString, Format and LogValue of a
// [Key] and a [Vault], never contain a secret value or a key; credential
// names and paths may appear. The package reads no environment variable: its
// caller passes keys and settings in.
//
// The package does not promise that secrets are gone from memory when a
// Vault is dropped: Go strings cannot be wiped and the garbage collector may
// copy data. An opened vault's values live in one buffer, the decrypted file,
// which stays in memory as long as the Vault does; buffers the package owns
// otherwise (plaintexts it encodes, failed decryptions) are cleared after
// use. A vault's Fernet timestamp is visible without the key, so anyone who
// can read the file can tell when it was sealed. A vault's size, about that
// of its plaintext, is visible too.
//
// A key in an environment variable is visible beyond the process that reads
// it. A process's initial environment stays readable in /proc/<pid>/environ
// by every process of the same user, so a command started by [Vault.Run],
// whose own environment lacks the key, could still read it from its
// parent's. [HardenProcess] closes that on Linux for the calling process (it
// becomes non-dumpable: its /proc files are root's, ptrace by the same user is
// refused), but not for root, nor for the processes that handed the key
// down: the shell or CI step with MASTER_KEY in its environment stays
// readable to the command. A key read from a file, or from a command's
// output, is in no environment at all.
//
// The limits: a vault file of at most [MaxVaultSize], JSON nested at most
// 10,000 levels, one environment variable of at most [MaxEnvString], and a
// secret of at least [MinSecretLen] bytes to be masked.
package vault

import (
	"bytes"
	"cmp"
	"context"
	"crypto/aes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A Vault is an opened vault: the decrypted document and what is known of
// how it was sealed. Its methods may be called from several goroutines at
// once as long as none of them changes it.
//
// Printing a *Vault, with any fmt verb or through log/slog, shows its file
// name and the number of secrets, never their values. (A Vault value
// copied out of one prints, by reflection, its name and addresses.)
type Vault struct {
	name string
	// doc returns the decrypted document. Like Key's secret, it is a func
	// so that fmt, printing a Vault by reflection, shows an address.
	doc      func() *node
	keyIndex int
	key      *Key
	keyring  []*Key // every key given to open it, for Run to strip and mask
	sealedAt time.Time
	opts     *options

	// fingerprint hashes released values for audit events; nil without an
	// Auditor.
	fingerprint *fingerprinter
	// changes are the Set, Delete and Replace calls since Open, audited
	// when Update commits them.
	changes []Event
}

// Open reads the vault file at path and decrypts it with keys, trying each
// in turn, newest first. Symbolic links are followed. A file larger than
// [MaxVaultSize] is refused before it is read. Surrounding whitespace (a
// trailing newline, CRLF) around the token is ignored.
//
// Open fails with an error wrapping [ErrMalformed] if the file is not a
// Fernet token, [ErrWrongKey] if no key verifies it, [ErrExpired] if it is
// older than [WithMaxAge] allows, and [ErrNotJSON] if its plaintext is not a
// JSON object.
func Open(path string, keys []*Key, opts ...OpenOption) (*Vault, error) {
	return OpenContext(context.Background(), path, keys, opts...)
}

// OpenContext is Open with a context, which the Auditor receives (see
// [Auditor]).
func OpenContext(ctx context.Context, path string, keys []*Key, opts ...OpenOption) (*Vault, error) {
	return open(ctx, path, func() ([]byte, error) { return readVault(path) }, keys, newOptions(opts))
}

// OpenFS is Open for a file in fsys, such as a vault embedded with
// //go:embed credentials.enc in an embed.FS.
func OpenFS(fsys fs.FS, name string, keys []*Key, opts ...OpenOption) (*Vault, error) {
	return OpenFSContext(context.Background(), fsys, name, keys, opts...)
}

// OpenFSContext is OpenFS with a context, which the Auditor receives (see
// [Auditor]).
func OpenFSContext(ctx context.Context, fsys fs.FS, name string, keys []*Key, opts ...OpenOption) (*Vault, error) {
	if fsys == nil {
		return nil, fmt.Errorf("vault: %s: OpenFS needs a file system (fsys is nil): pass the embed.FS or os.DirFS the vault is in", name)
	}
	return open(ctx, name, func() ([]byte, error) { return readVaultFS(fsys, name) }, keys, newOptions(opts))
}

// open reads a vault with read, opens it and audits the open, successful or
// not; a refused audit record fails it.
func open(ctx context.Context, name string, read func() ([]byte, error), keys []*Key, o *options) (*Vault, error) {
	if ctx == nil {
		return nil, errNilContext
	}
	v, err := openUnaudited(name, read, keys, o)
	event := Event{Op: OpOpen, Vault: name, KeyIndex: -1, Err: err}
	if v != nil {
		event.Key, event.KeyIndex = v.key.Fingerprint(), v.keyIndex
	}
	if err := withAudit(err, o.audit(ctx, event)); err != nil {
		return nil, err
	}
	return v, nil
}

func openUnaudited(name string, read func() ([]byte, error), keys []*Key, o *options) (*Vault, error) {
	raw, err := read()
	if err != nil {
		return nil, err
	}
	plain, idx, sealedAt, err := unseal(name, raw, keys)
	if err != nil {
		return nil, err
	}
	if err := checkAge(name, sealedAt, o.now(), o.maxAge); err != nil {
		clear(plain)
		return nil, err
	}
	// The document's strings share plain's memory: it is not cleared, and
	// not touched again, once the document holds it.
	doc, err := decodeDocument(plain)
	if err != nil {
		clear(plain)
		return nil, notJSON(name, err)
	}
	v := &Vault{name: name, doc: func() *node { return &doc }, keyIndex: idx, key: keys[idx], keyring: slices.Clone(keys), sealedAt: sealedAt, opts: o}
	if o.auditor != nil {
		v.fingerprint = newFingerprinter(v.key)
	}
	return v, nil
}

// unseal checks, verifies and decrypts the contents of a vault file, in
// place: every stage of Open but the age check and the JSON. It returns the
// plaintext, a part of raw's memory, the position of the key that opened it
// and the token's timestamp.
func unseal(name string, raw []byte, keys []*Key) (plain []byte, keyIndex int, sealedAt time.Time, err error) {
	if err := checkKeyring(name, keys); err != nil {
		return nil, -1, time.Time{}, err
	}
	if hasConflictMarkers(raw) {
		return nil, -1, time.Time{}, conflictMarkersError(name)
	}
	tok := bytes.TrimSpace(raw)
	// A token starts with its version byte and the high bytes of its
	// timestamp, "gAAAAA" in base64 until 2106. Anything else fails
	// below: a key file or identities given as the vault are named as
	// what they are.
	if !bytes.HasPrefix(tok, []byte("gAAAAA")) {
		if kind := keyMaterial(tok); kind != "" {
			return nil, -1, time.Time{}, errorf(ErrMalformed, "%s is %s, not a vault: give the vault's own path as the vault, and this file as what opens it", name, kind)
		}
	}
	plain, keyIndex, sealedAt, err = openToken(tok, keys)
	switch {
	case errors.Is(err, errWrongKey):
		return nil, -1, time.Time{}, errorf(ErrWrongKey, "%s: wrong key: %s, or the file was changed after it was sealed: use the keyring it was sealed with, or restore the file from version control",
			name, keyringFails(keys))
	case err != nil && keyIndex >= 0:
		return nil, -1, time.Time{}, errorf(ErrMalformed, "%s: %v", name, err)
	case err != nil:
		return nil, -1, time.Time{}, errorf(ErrMalformed, "%s is not a sealed vault: %v: give the path of a vault written by credvault or Python's Fernet", name, err)
	}
	return plain, keyIndex, sealedAt, nil
}

func notJSON(name string, err error) error {
	return errorf(ErrNotJSON, "%s opened, but its plaintext is %v: a vault holds one JSON object; re-seal it from one", name, err)
}

// checkKeyring refuses an empty keyring and nil or zero keys.
func checkKeyring(name string, keys []*Key) error {
	if len(keys) == 0 {
		return fmt.Errorf("vault: %s: no key given to open it with: pass the keyring the vault was sealed with", name)
	}
	for i, k := range keys {
		if !k.valid() {
			return fmt.Errorf("vault: %s: key %d of the keyring is nil: make keys with ParseKey, ParseKeyring or GenerateKey", name, i+1)
		}
	}
	return nil
}

// keyringFails says that no key of a keyring opens a vault, naming the keys
// by fingerprint: "neither of the keyring's 2 keys (fingerprints a, b) opens it".
func keyringFails(keys []*Key) string {
	fps := make([]string, len(keys))
	for i, k := range keys {
		fps[i] = k.Fingerprint()
	}
	list := strings.Join(fps, ", ")
	switch len(keys) {
	case 1:
		return "the keyring's only key (fingerprint " + list + ") does not open it"
	case 2:
		return "neither of the keyring's 2 keys (fingerprints " + list + ") opens it"
	}
	return fmt.Sprintf("none of the keyring's %d keys (fingerprints %s) opens it", len(keys), list)
}

// Seal encrypts secrets under key and writes them to path as a vault,
// atomically (see the package documentation). The Fernet timestamp is the
// current time, from [WithClock] if given, except over a vault sealed with
// the same key, whose timestamp the new vault keeps: the timestamp says when
// the vault's key last changed (see [Update] and [WithMaxAge]).
//
// Seal replaces an existing vault, whatever its key, and an empty file; it
// refuses, with an error wrapping fs.ErrExist, to replace any other file (a
// key file, a JSON document, the target of a link to such a file) unless
// given [WithReplaceAny], and any file at all with [WithNoClobber]. It never
// replaces a directory, a named pipe or a device.
//
// secrets is anything encoding/json encodes as a JSON object: a
// map[string]any such as ParseJSON returns, a map[string]string, a struct
// with json tags. nil, a nil map and a nil pointer are refused, since a
// nil map would silently empty the vault: to seal an empty vault, pass
// map[string]any{}. Its values may be of any type encoding/json encodes
// (integers of any size, []int, map[string]int, structs, json.RawMessage,
// json.Number), and numbers keep the exact text encoding/json gives them.
// Unlike encoding/json, a string that is not valid UTF-8 is refused rather
// than altered, and so is a NaN or an infinity, by an error that names its
// credential path. Object keys are written sorted. A document that Open would refuse (a vault over
// [MaxVaultSize], JSON nested over 10,000 levels) is refused, and nothing
// is written.
func Seal(path string, secrets any, key *Key, opts ...SealOption) error {
	return SealContext(context.Background(), path, secrets, key, opts...)
}

// SealContext is Seal with a context, which the Auditor receives (see
// [Auditor]) and which ends the wait for another writer when it is done.
func SealContext(ctx context.Context, path string, secrets any, key *Key, opts ...SealOption) error {
	if ctx == nil {
		return errNilContext
	}
	o := newOptions(opts)
	if !key.valid() {
		return fmt.Errorf("vault: cannot seal %s without a key: make one with GenerateKey or ParseKey", path)
	}
	events := []Event{{Op: OpSeal, Vault: path, KeyIndex: -1, SealKey: key.Fingerprint()}}
	// The secrets are encoded while the lock is taken and the file they
	// replace is checked (its HMAC verified, for its timestamp): on a
	// second core, the check of a large vault costs no time. A document
	// that does not encode is the error reported, whatever else failed,
	// and at once: it ends the wait for another writer. A panic while
	// encoding (a value's MarshalJSON) reaches the caller, as it did.
	var plain []byte
	var encodeErr error
	lockCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	encoded := goTask(func() {
		ok := false
		defer func() {
			if !ok {
				stopWaiting()
			}
		}()
		plain, encodeErr = sealDocument(secrets)
		ok = encodeErr == nil
	})
	defer func() {
		encoded.wait()
		clear(plain)
	}()
	err := withWriteLockContext(lockCtx, path, o, func(target string) error {
		at, err := checkReplaceable(path, target, key, o)
		encoded.rethrow()
		if encodeErr != nil || err != nil {
			return cmp.Or(encodeErr, err)
		}
		if at.IsZero() {
			at = o.now()
		}
		return sealAndReplace(ctx, path, target, plain, key, at, o, events, false)
	})
	if err != nil {
		encoded.rethrow()
		err = cmp.Or(encodeErr, err)
	}
	return o.auditFailure(ctx, events, err)
}

// sealAndReplace seals plain under key with the timestamp at, audits
// events, and only then replaces target with the new token. It first
// checks that the new vault is one Open accepts: the token no larger than
// MaxVaultSize (the plaintext's nesting and UTF-8 are checked as it is
// encoded). With verify, it also checks that the token opens with key alone
// to the same plaintext, and that the plaintext decodes as Open decodes it,
// decrypting with openToken, written apart from the sealToken that sealed
// it: Rotate and Update verify, since the vault they replace is
// the only copy of its data; Seal's caller holds the data. name is the path
// the caller was given, for errors. The caller holds the write lock, and
// audits a failure with o.auditFailure.
func sealAndReplace(ctx context.Context, name, target string, plain []byte, key *Key, at time.Time, o *options, events []Event, verify bool) error {
	if n := tokenSize(len(plain)); n > MaxVaultSize {
		return fmt.Errorf("vault: %s: the new vault would be %d bytes, more than the %d MiB Open accepts (MaxVaultSize)%s: nothing was written; keep large files outside the vault, and store their path or URL in it",
			name, n, MaxVaultSize>>20, changedPaths(events))
	}
	tok, err := sealToken(plain, key, at)
	if err != nil {
		return err
	}
	if verify {
		check, _, _, err := openToken(bytes.Clone(tok), []*Key{key})
		same := err == nil && bytes.Equal(check, plain)
		if same {
			_, err = decodeDocument(check)
		}
		clear(check)
		if !same {
			return fmt.Errorf("vault: %s: the new token did not decrypt to what was sealed: the vault is unchanged", name)
		}
		if err != nil {
			return fmt.Errorf("vault: %s: the new vault would not open: its plaintext would be %v: the vault is unchanged", name, err)
		}
	}
	if len(o.sidecars) == 0 {
		return replaceFile(target, tok, o, func() error { return o.auditAll(ctx, events) })
	}
	return replaceWithSidecars(ctx, target, tok, o, events)
}

// tokenSize returns the length of the Fernet token of a plaintext of n
// bytes: the plaintext padded to whole AES blocks, with the version,
// timestamp, IV and HMAC, in padded base64.
func tokenSize(n int) int {
	raw := tokenOverhead + (n/aes.BlockSize+1)*aes.BlockSize
	return (raw + 2) / 3 * 4
}

// changedPaths names the credential paths a write changes, for errors:
// ` (after the change to "a.b")`, or "" for none.
func changedPaths(events []Event) string {
	var paths []string
	for _, e := range events {
		if e.Path != "" {
			paths = append(paths, strconv.Quote(shortPath(e.Path)))
		}
	}
	if len(paths) == 0 {
		return ""
	}
	return " (after the change to " + strings.Join(paths, ", ") + ")"
}

// Get returns the value at a credential path such as "database.password"
// (see the path rules below). Strings come back as they are, numbers in their
// exact JSON text ("5432", "12345678901234567890", "1.0"), booleans as "true"
// or "false", and null as "". A path that leads to an object or an array is
// an error that says so; a path that leads nowhere is a *NotFoundError.
//
// In a path, dots separate keys; a backslash escapes a dot or a backslash
// inside a key ("servers.db\.example\.com.password"); below an array a
// segment is an index ("hosts.0").
func (v *Vault) Get(path string) (string, error) {
	return v.GetContext(context.Background(), path)
}

// GetContext is Get with a context, which the Auditor receives (see
// [Auditor]).
func (v *Vault) GetContext(ctx context.Context, path string) (string, error) {
	if err := v.readyWith(ctx); err != nil {
		return "", err
	}
	value, err := v.get(path)
	event := v.event(OpGet, err)
	event.Path = path
	if err == nil && v.fingerprint != nil {
		event.ValueFingerprint = v.fingerprint.of(value)
	}
	if err := withAudit(err, v.opts.audit(ctx, event)); err != nil {
		return "", err
	}
	return value, nil
}

// Lookup returns the value at a credential path, as Get does, and whether
// there is one: like os.LookupEnv, it reports absence as absence, "" and
// false, and not as an error. A path that leads to an object or an array
// is an error wrapping [ErrNotScalar]; a malformed path is an error.
//
// It is audited as OpLookup, with Absent set when nothing was there, and
// outcome ok: asking whether an optional value is set is not a failure.
func (v *Vault) Lookup(path string) (value string, ok bool, err error) {
	return v.LookupContext(context.Background(), path)
}

// LookupContext is Lookup with a context, which the Auditor receives (see
// [Auditor]).
func (v *Vault) LookupContext(ctx context.Context, path string) (value string, ok bool, err error) {
	if err := v.readyWith(ctx); err != nil {
		return "", false, err
	}
	value, err = v.get(path)
	absent := errors.Is(err, ErrNotFound)
	if absent {
		err = nil
	}
	event := v.event(OpLookup, err)
	event.Path, event.Absent = path, absent
	if err == nil && !absent && v.fingerprint != nil {
		event.ValueFingerprint = v.fingerprint.of(value)
	}
	if err := withAudit(err, v.opts.audit(ctx, event)); err != nil {
		return "", false, err
	}
	return value, !absent, nil
}

// readyWith is ready for a method given a context, which must not be nil.
func (v *Vault) readyWith(ctx context.Context) error {
	if ctx == nil {
		return errNilContext
	}
	return v.ready()
}

// ready refuses a Vault that was not opened: the zero Vault or a nil one.
func (v *Vault) ready() error {
	if v == nil || v.doc == nil || v.opts == nil {
		return ErrNotOpened
	}
	return nil
}

func (v *Vault) get(path string) (string, error) {
	segs, err := parsePath(path)
	if err != nil {
		return "", fmt.Errorf("vault: %s: %w", v.name, err)
	}
	n, err := lookup(v.name, path, *v.doc(), segs)
	if err != nil {
		return "", err
	}
	s, ok := scalarText(n)
	if !ok {
		return "", notScalar(v.name, path, n)
	}
	return s, nil
}

// event returns an event about this vault, with the key that opened it.
func (v *Vault) event(op Op, err error) Event {
	return Event{Op: op, Vault: v.name, Key: v.key.Fingerprint(), KeyIndex: v.keyIndex, Err: err}
}

func notScalar(name, path string, n node) error {
	switch n.kind() {
	case kindObject:
		return errorf(ErrNotScalar, "%s: %q is an object, not a single value: ask for one of its keys (%s), e.g. %q", name, path, listNames(n.keys()), path+"."+firstKey(n))
	case kindArray:
		return errorf(ErrNotScalar, "%s: %q is an array of %d elements, not a single value: ask for one by index, e.g. %q", name, path, n.len(), path+".0")
	}
	return errorf(ErrNotScalar, "%s: %q is not a single value", name, path)
}

// firstKey returns an object's first key as a path segment, or "key".
func firstKey(obj node) string {
	if ms := obj.members(); len(ms) > 0 {
		return formatPath([]string{ms[0].key})
	}
	return "key"
}

// RevealJSON returns the vault's whole document as JSON, object keys sorted,
// indented by two spaces, with a final newline. It is the only way to see
// every value at once; the name says what it does to a reader of the code.
// The caller should clear the slice when done with it.
func (v *Vault) RevealJSON() ([]byte, error) {
	return v.RevealJSONContext(context.Background())
}

// RevealJSONContext is RevealJSON with a context, which the Auditor
// receives (see [Auditor]).
func (v *Vault) RevealJSONContext(ctx context.Context) ([]byte, error) {
	if err := v.readyWith(ctx); err != nil {
		return nil, err
	}
	compact, err := encodeDocument(*v.doc())
	event := v.event(OpReveal, err)
	if err == nil && v.fingerprint != nil {
		event.ValueFingerprint = v.fingerprint.of(string(compact))
	}
	if err := withAudit(err, v.opts.audit(ctx, event)); err != nil {
		clear(compact)
		return nil, err
	}
	defer clear(compact)
	var out bytes.Buffer
	out.Grow(len(compact) + len(compact)/4)
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("vault: %s: cannot indent the document", v.name)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// Name returns the vault's file name, as given to Open or OpenFS; "" for a
// Vault that was not opened.
func (v *Vault) Name() string {
	if v == nil {
		return ""
	}
	return v.name
}

// SealedAt returns when the vault was sealed: its Fernet timestamp, to the
// second; the zero time for a Vault that was not opened.
func (v *Vault) SealedAt() time.Time {
	if v == nil {
		return time.Time{}
	}
	return v.sealedAt
}

// KeyIndex returns the position, from 0, of the key of the keyring that
// opened the vault. During a rotation window ("new,old") it is 1 until the
// vault has been rotated to the new key, and 0 after. It is -1 for a Vault
// that was not opened.
func (v *Vault) KeyIndex() int {
	if v.ready() != nil {
		return -1
	}
	return v.keyIndex
}

// KeyFingerprint returns the fingerprint of the key that opened the vault,
// or "" for a Vault that was not opened.
func (v *Vault) KeyFingerprint() string {
	if v.ready() != nil {
		return ""
	}
	return v.key.Fingerprint()
}

// Len returns the number of secrets in the vault: the scalar values (strings,
// numbers, booleans, nulls) at any depth; 0 for a Vault that was not opened.
func (v *Vault) Len() int {
	if v.ready() != nil {
		return 0
	}
	return countLeaves(*v.doc())
}

// String describes the vault without its contents: "vault.Vault(credentials.enc, 7 secrets)",
// "vault.Vault(credentials.enc, 1 secret)"; "vault.Vault(invalid)" for a
// Vault that was not opened, nil included.
func (v *Vault) String() string {
	if v.ready() != nil {
		return "vault.Vault(invalid)"
	}
	n := v.Len()
	if n == 1 {
		return fmt.Sprintf("vault.Vault(%s, 1 secret)", v.name)
	}
	return fmt.Sprintf("vault.Vault(%s, %d secrets)", v.name, n)
}

// GoString returns the same as String, so that %#v shows no secret.
func (v *Vault) GoString() string { return v.String() }

// Format implements fmt.Formatter so that every verb prints String.
func (v *Vault) Format(f fmt.State, verb rune) { fmt.Fprint(f, v.String()) }

// LogValue implements slog.LogValuer with the same description.
func (v *Vault) LogValue() slog.Value { return slog.StringValue(v.String()) }
