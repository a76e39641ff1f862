package vault

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strconv"
	"time"
)

// An Auditor records every operation on a vault. It is set with
// [WithAuditor]; without one, nothing is recorded. [NewSlogAuditor] writes
// to a *slog.Logger; [AuditorFunc] makes one of a function.
//
// The contract, in the manner of slog.Handler:
//
//   - ctx is the context of the call being audited: the one given to a
//     Context function ([OpenContext], [Vault.GetContext], ...), or
//     context.Background() for the others. It carries the caller's trace
//     (for a handler that records trace ids) and deadline (for an Auditor
//     that sends records over the network: it should give up when ctx is
//     done, and return an error, which fails the operation). Audit must not
//     retain ctx after it returns.
//   - Audit is called synchronously, once per operation, after the
//     operation's outcome is known and before its result is released: Open
//     and [Vault.Get] do not return a vault or a value until Audit has
//     returned. Failures are audited as well as successes.
//   - For a write (Seal, Rotate, Update), Audit is called just before the new
//     vault replaces the old one, so that a refused record leaves the vault
//     unchanged. If the replacement then fails, a second event records the
//     failure.
//   - Audit may be called concurrently from several goroutines (one Vault
//     used by many), and must be safe for that.
//   - If Audit returns an error, the operation fails with an error that
//     wraps both [ErrAudit] and the Auditor's error, and releases nothing:
//     Get returns no value, Flatten no map, a write does not happen. This is
//     the default, fail-closed policy; [WithAuditFailOpen] changes it.
//   - Audit must not retain the Event's slices (Names) after it returns;
//     copy them if it needs them later.
//   - An Event never holds a secret value or a key, only names, paths,
//     fingerprints and errors, so an Auditor may write it anywhere.
type Auditor interface {
	Audit(ctx context.Context, e Event) error
}

// AuditorFunc is an Auditor that calls itself, for a short Auditor written
// as a function literal.
type AuditorFunc func(ctx context.Context, e Event) error

// Audit returns f(ctx, e). A nil AuditorFunc records nothing and returns
// an error, so that the operation fails closed rather than goes unaudited.
func (f AuditorFunc) Audit(ctx context.Context, e Event) error {
	if f == nil {
		return errors.New("vault: the AuditorFunc is nil")
	}
	return f(ctx, e)
}

// An Op names an operation in an [Event].
type Op string

// The operations that are audited.
const (
	OpOpen    Op = "open"    // Open, OpenFS
	OpGet     Op = "get"     // Vault.Get
	OpLookup  Op = "lookup"  // Vault.Lookup: Absent says when nothing was there
	OpDecode  Op = "decode"  // Vault.Decode: a value or a subtree into a Go value
	OpReveal  Op = "reveal"  // Vault.RevealJSON: every value at once
	OpFlatten Op = "flatten" // Vault.Flatten, Vault.Environ
	OpSeal    Op = "seal"    // Seal
	OpRotate  Op = "rotate"  // Rotate
	OpSet     Op = "set"     // Tx.Set inside Update
	OpDelete  Op = "delete"  // Tx.Delete inside Update
	OpReplace Op = "replace" // Tx.Replace inside Update: the whole document
	OpUpdate  Op = "update"  // Update when fn made no Set, Delete or Replace, or failed before it could
	OpExport  Op = "export"  // the exporters
	OpExec    Op = "exec"    // Vault.Run: a command given the secrets in its environment
	OpMask    Op = "mask"    // Vault.Masker: a Masker of the values
	OpMerge   Op = "merge"   // Merge: a three-way merge written over our version

	// Changes of who can open a vault (package custody, through
	// UpdateSidecar): Event.Recipient names the recipient.
	OpRecipientAdd    Op = "recipient-add"
	OpRecipientRemove Op = "recipient-remove"
)

// An Event is one audited operation. It holds names, paths and fingerprints,
// never a secret value or a key.
type Event struct {
	Time  time.Time // when the operation ended, from WithClock if given
	Op    Op        // what was done
	Vault string    // the vault file

	// Path is the credential path of a get, lookup, decode, set or delete;
	// Names the variable names of a flatten, export or exec.
	Path  string
	Names []string

	// Absent is true when a lookup found nothing at Path: an answer, not a
	// failure, so Err is nil.
	Absent bool

	// Key is the fingerprint of the key that opened the vault and KeyIndex
	// its position in the keyring, from 0; -1 and "" when no key opened it.
	// SealKey is the fingerprint of the key a write sealed the vault with.
	Key      string
	KeyIndex int
	SealKey  string

	// KeySource says where the keyring came from: the name of an
	// environment variable or the path of a key file, never the key. It is
	// set with WithKeySource.
	KeySource string

	// Pipeline is the CI run, set with WithPipeline.
	Pipeline Pipeline

	// Command is the base name of the program an exec gives the secrets to;
	// never its arguments.
	Command string

	// Recipient is the recipient a recipient-add or recipient-remove
	// changed: its type, label and ID (`age recipient "carol" (age1...)`),
	// never a wrapped key.
	Recipient string

	// ValueFingerprint is a keyed hash of the value(s) a get, flatten or
	// export released, so that an auditor can tell that a deploy used a
	// different password than yesterday's without seeing either: 16 hex
	// digits of HMAC-SHA256, keyed by a key derived from the vault key that
	// opened the vault. Fingerprints of one value are equal only under one
	// key: after a rotation, they change. For several values it covers the
	// sorted names and their values together.
	ValueFingerprint string

	// Err is nil when the operation succeeded.
	Err error
}

// Outcome returns "ok" or "error".
func (e Event) Outcome() string {
	if e.Err != nil {
		return "error"
	}
	return "ok"
}

// MarshalJSON encodes the event as encoding/json encodes its fields, with
// Err as its message, or null, instead of the {} that encoding/json makes of
// most errors: an Event's error names files, paths and variables, never a
// value or a key.
func (e Event) MarshalJSON() ([]byte, error) {
	type fields Event // the same fields, without this method
	var msg *string
	if e.Err != nil {
		s := e.Err.Error()
		msg = &s
	}
	return json.Marshal(struct {
		fields
		Err *string
	}{fields(e), msg})
}

// ErrAudit means that the Auditor refused to record an operation, which
// therefore failed and released nothing. The error also wraps the
// Auditor's own error.
var ErrAudit = errors.New("vault: the audit record could not be written")

// WithAuditor makes every operation call a's Audit; see [Auditor] for the
// contract. Without it, nothing is audited.
func WithAuditor(a Auditor) Option {
	return optionFunc(func(o *options) { o.auditor = a })
}

// WithPipeline sets the CI run that audit events name, usually
// DetectPipeline(os.Getenv). The package never reads the environment itself.
func WithPipeline(p Pipeline) Option {
	return optionFunc(func(o *options) { o.pipeline = p })
}

// WithKeySource sets where the keyring came from, for audit events: the
// name of the environment variable ("MASTER_KEY") or the path of the key
// file. Never pass the key itself.
func WithKeySource(source string) Option {
	return optionFunc(func(o *options) { o.keySource = source })
}

// WithAuditFailOpen makes an operation go ahead when the Auditor returns an
// error, for those who prefer availability to a complete record. The default
// is fail-closed: the operation fails and releases nothing.
func WithAuditFailOpen() Option {
	return optionFunc(func(o *options) { o.auditFailOpen = true })
}

// audit fills in the event's time, pipeline and key source and calls the
// Auditor. It returns nil if there is no Auditor, if it succeeded, or if
// the policy is fail-open; otherwise an error wrapping ErrAudit and the
// Auditor's error.
func (o *options) audit(ctx context.Context, e Event) error {
	if o.auditor == nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	e.Time = o.now()
	e.Pipeline = o.pipeline
	e.KeySource = o.keySource
	err := o.auditor.Audit(ctx, e)
	if err == nil || o.auditFailOpen {
		return nil
	}
	return &auditError{vault: e.Vault, op: e.Op, err: err}
}

type auditError struct {
	vault string
	op    Op
	err   error
}

func (e *auditError) Error() string {
	return fmt.Sprintf("vault: %s: the audit record of %s could not be written (%v): nothing was released or changed; fix the audit destination", e.vault, e.op, e.err)
}

func (e *auditError) Unwrap() []error { return []error{ErrAudit, e.err} }

// auditFailure records that a write described by events failed with err,
// unless err is the Auditor's own refusal, and returns err with any error of
// that record. A nil err needs no record: the write's events were audited
// before it was committed.
func (o *options) auditFailure(ctx context.Context, events []Event, err error) error {
	if err == nil || errors.Is(err, ErrAudit) {
		return err
	}
	var auditErr error
	for _, e := range events {
		e.Err = err
		auditErr = errors.Join(auditErr, o.audit(ctx, e))
	}
	return withAudit(err, auditErr)
}

// auditAll records events, stopping at the first refusal.
func (o *options) auditAll(ctx context.Context, events []Event) error {
	for _, e := range events {
		if err := o.audit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// withAudit returns err, or the audit error, or both joined: an operation
// that failed and could not be audited reports both.
func withAudit(err, auditErr error) error {
	switch {
	case auditErr == nil:
		return err
	case err == nil:
		return auditErr
	}
	return errors.Join(err, auditErr)
}

// valueFingerprintDomain separates the value-fingerprint key from other
// uses of the vault key.
const valueFingerprintDomain = "credvault audit value fingerprint v1"

// A fingerprinter hashes released values for audit events, under a key
// derived from the vault key. The key is a func's result, as Key's secret
// is, so that fmt, printing a Vault by reflection, shows an address.
type fingerprinter struct{ key func() []byte }

func newFingerprinter(key *Key) *fingerprinter {
	derive := hmac.New(sha256.New, key.fernetKey()[:])
	derive.Write([]byte(valueFingerprintDomain))
	derived := derive.Sum(nil)
	return &fingerprinter{key: func() []byte { return derived }}
}

// of fingerprints values.
func (f *fingerprinter) of(values ...string) string { return f.seq(slices.Values(values)) }

// vars fingerprints the variables of names: each name, then its value.
func (f *fingerprinter) vars(vars map[string]string, names []string) string {
	return f.seq(func(yield func(string) bool) {
		for _, n := range names {
			if !yield(n) || !yield(vars[n]) {
				return
			}
		}
	})
}

func (f *fingerprinter) seq(values iter.Seq[string]) string {
	mac := hmac.New(sha256.New, f.key())
	// Each value length-prefixed, so that ("ab","c") and ("a","bc") differ:
	// "2:ab1:c". Written through a buffer, cleared after use: a value at a
	// time costs a copy and a call each, and Flatten's audit fingerprints
	// every variable.
	buf := make([]byte, 0, 4096)
	flush := func() {
		mac.Write(buf)
		clear(buf)
		buf = buf[:0]
	}
	for v := range values {
		if cap(buf)-len(buf) < 21 {
			flush()
		}
		buf = strconv.AppendInt(buf, int64(len(v)), 10)
		buf = append(buf, ':')
		for v != "" {
			if len(buf) == cap(buf) {
				flush()
			}
			n := copy(buf[len(buf):cap(buf)], v)
			buf, v = buf[:len(buf)+n], v[n:]
		}
	}
	flush()
	return hex.EncodeToString(mac.Sum(nil)[:8])
}

// NewSlogAuditor returns an Auditor that writes one log record per event to
// l, at level Info for a success and Warn for a failure, with the message
// "credvault audit", the event's time, and these attributes (empty ones
// left out): op, vault, path, absent, names, key, key_index, seal_key,
// command, recipient, key_source, value_fp, pipeline (a group: platform,
// run_id, job, commit, actor, repo, url), outcome ("ok" or "error") and
// error. The names are stable.
//
// The handler receives the context of the audited call, as
// Logger.InfoContext gives it, so that a handler that adds trace and span ids
// from the context (OpenTelemetry's, or one of the program's own) puts them
// on the audit record: pass the request's context to [OpenContext],
// [Vault.GetContext] and the other Context functions.
//
// Its Audit returns the handler's error, so a JSON handler that cannot
// write its file fails the operation (fail-closed). A record the handler
// does not enable at its level is not an error.
//
// NewSlogAuditor panics if l is nil: a program that audits must say where.
func NewSlogAuditor(l *slog.Logger) Auditor {
	if l == nil {
		panic("vault: NewSlogAuditor needs a *slog.Logger, not nil: pass slog.Default() for the program's default logger")
	}
	return slogAuditor{l.Handler()}
}

type slogAuditor struct{ h slog.Handler }

func (a slogAuditor) Audit(ctx context.Context, e Event) error {
	level := slog.LevelInfo
	if e.Err != nil {
		level = slog.LevelWarn
	}
	if !a.h.Enabled(ctx, level) {
		return nil
	}
	r := slog.NewRecord(e.Time, level, "credvault audit", 0)
	r.AddAttrs(slog.String("op", string(e.Op)), slog.String("vault", e.Vault))
	if e.Path != "" {
		r.AddAttrs(slog.String("path", e.Path))
	}
	if e.Absent {
		r.AddAttrs(slog.Bool("absent", true))
	}
	if e.Names != nil {
		// A copy: a handler may keep the record, and the Auditor must not
		// keep the Event's slices.
		r.AddAttrs(slog.Any("names", slices.Clone(e.Names)))
	}
	if e.Key != "" {
		r.AddAttrs(slog.String("key", e.Key), slog.Int("key_index", e.KeyIndex))
	}
	if e.SealKey != "" {
		r.AddAttrs(slog.String("seal_key", e.SealKey))
	}
	if e.Command != "" {
		r.AddAttrs(slog.String("command", e.Command))
	}
	if e.Recipient != "" {
		r.AddAttrs(slog.String("recipient", e.Recipient))
	}
	if e.KeySource != "" {
		r.AddAttrs(slog.String("key_source", e.KeySource))
	}
	if e.ValueFingerprint != "" {
		r.AddAttrs(slog.String("value_fp", e.ValueFingerprint))
	}
	if e.Pipeline != (Pipeline{}) {
		r.AddAttrs(slog.Any("pipeline", e.Pipeline))
	}
	r.AddAttrs(slog.String("outcome", e.Outcome()))
	if e.Err != nil {
		r.AddAttrs(slog.String("error", e.Err.Error()))
	}
	return a.h.Handle(ctx, r)
}
