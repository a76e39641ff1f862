package vault

import "time"

// An Option applies to every operation of the package: [WithAuditor],
// [WithPipeline], [WithKeySource], [WithAuditFailOpen], [WithClock], and a
// combination of them made by [Options].
//
// Options are made only by the With functions of this package, and each
// operation accepts exactly the options that mean something to it, so that
// an option that would be ignored does not compile:
//
//   - an Option applies everywhere;
//   - an [OpenOption] is an Option or [WithMaxAge], which checks a vault
//     being opened: Open, OpenFS, OpenBytes;
//   - a [WriteOption] is an Option, [WithLockTimeout], which bounds the
//     wait for another writer of a vault file, or [WithSidecar], which
//     replaces a file that follows the vault in the same write: Rotate,
//     Merge, and Seal and Update;
//   - a [SealOption] is a WriteOption, [WithNoClobber] or [WithReplaceAny],
//     which choose what Seal may replace: Seal;
//   - an [UpdateOption] is an OpenOption or a WriteOption: Update opens and
//     writes.
//
// When the same option is given twice, the last one wins; WithSidecar is
// the exception: one per file, each written. A nil option is skipped, here
// and for the other option types ([FlattenOption], [SetOption]).
type Option interface {
	OpenOption
	WriteOption
}

// An OpenOption changes how a vault is opened, by [Open], [OpenFS] and
// [OpenBytes] (and [Update]): an [Option] or [WithMaxAge].
type OpenOption interface {
	UpdateOption
	openOption()
}

// A WriteOption changes how a vault file is written, by [Rotate], [Merge],
// [Seal] and [Update]: an [Option], [WithLockTimeout] or [WithSidecar].
type WriteOption interface {
	SealOption
	UpdateOption
	writeOption()
}

// A SealOption changes how [Seal] writes a vault: a [WriteOption],
// [WithNoClobber] or [WithReplaceAny].
type SealOption interface {
	option
	sealOption()
}

// An UpdateOption changes how [Update] opens and writes a vault: an
// [OpenOption] or a [WriteOption].
type UpdateOption interface {
	option
	updateOption()
}

// option is what every option is: a change to the options.
type option interface {
	apply(*options)
}

type options struct {
	now         func() time.Time
	maxAge      time.Duration
	lockTimeout time.Duration
	noClobber   bool // Seal replaces no existing file
	replaceAny  bool // Seal may replace a regular file that is not a vault

	auditor       Auditor
	auditFailOpen bool
	pipeline      Pipeline
	keySource     string

	sidecars []*sidecar // WithSidecar, in the order given

	// failpoint, when set, is called at named moments of a write and may
	// return an error to simulate a failure there. Only tests set it.
	failpoint func(stage string) error
}

// defaultLockTimeout bounds how long a writer waits for another writer of
// the same vault to finish.
const defaultLockTimeout = 10 * time.Second

// newOptions applies opts, of any of the option types, over the defaults.
func newOptions[O option](opts []O) *options {
	o := &options{now: time.Now, lockTimeout: defaultLockTimeout}
	for _, opt := range opts {
		if any(opt) != nil { // a nil option is skipped, as a nil FlattenOption is
			opt.apply(o)
		}
	}
	return o
}

// optionFunc is an Option: it applies to every operation.
type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }
func (optionFunc) openOption()        {}
func (optionFunc) writeOption()       {}
func (optionFunc) sealOption()        {}
func (optionFunc) updateOption()      {}

// openOptionFunc applies to opening only.
type openOptionFunc func(*options)

func (f openOptionFunc) apply(o *options) { f(o) }
func (openOptionFunc) openOption()        {}
func (openOptionFunc) updateOption()      {}

// writeOptionFunc applies to writing a file only.
type writeOptionFunc func(*options)

func (f writeOptionFunc) apply(o *options) { f(o) }
func (writeOptionFunc) writeOption()       {}
func (writeOptionFunc) sealOption()        {}
func (writeOptionFunc) updateOption()      {}

// sealOptionFunc applies to Seal only.
type sealOptionFunc func(*options)

func (f sealOptionFunc) apply(o *options) { f(o) }
func (sealOptionFunc) sealOption()        {}

// Options combines opts into one Option that applies them in order, so that
// a program can build its auditing once and pass it to every call:
//
//	audit := vault.Options(vault.WithAuditor(auditor), vault.WithPipeline(pipeline))
//	v, err := vault.Open(path, keys, audit, vault.WithMaxAge(30*24*time.Hour))
//	...
//	err = vault.Seal(path, secrets, keys[0], audit)
func Options(opts ...Option) Option {
	return optionFunc(func(o *options) {
		for _, opt := range opts {
			if opt != nil {
				opt.apply(o)
			}
		}
	})
}

// WithMaxAge makes Open refuse, with ErrExpired, a vault sealed longer than d
// ago, or sealed more than a minute in the future (clock skew). It is
// Python's Fernet.decrypt(token, ttl=d). Zero, the default, accepts any age.
// It applies to opening (Open, OpenFS, OpenBytes, Update); Rotate does not
// check it, so that rotating is how an expired vault is renewed.
//
// A vault's timestamp says when its key last changed: a new vault and a
// rotation set it to the time they run, while Update, and Seal over a vault
// with the same key, keep it. A maximum age is therefore a policy that a
// vault's key must change at least that often, which no change of a value
// satisfies; Python's Fernet.decrypt(token, ttl) reads the same timestamp.
// A negative d is an error.
func WithMaxAge(d time.Duration) OpenOption {
	return openOptionFunc(func(o *options) { o.maxAge = d })
}

// WithClock makes operations read the time from now instead of time.Now:
// for the age check, the timestamp of a sealed vault and audit events.
// Tests use it to work with a fixed time.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) {
		if now != nil {
			o.now = now
		}
	})
}

// WithLockTimeout sets how long a write of a vault file (Seal, Rotate,
// Update) waits for another writer of the same vault before it fails with
// [ErrLocked]; the default is 10 seconds. Zero or less means try once and
// fail at once if busy.
func WithLockTimeout(d time.Duration) WriteOption {
	return writeOptionFunc(func(o *options) { o.lockTimeout = d })
}

// WithNoClobber makes Seal refuse, with an error wrapping fs.ErrExist, to
// replace any existing file, even a vault: Seal then only creates. The
// credvault CLI's seal uses it unless given -force, so that sealing a small
// document over a full vault is never an accident. Rotate and Update, which
// replace only a vault that opens with their keys, do not take it.
func WithNoClobber() SealOption {
	return sealOptionFunc(func(o *options) { o.noClobber = true })
}

// WithReplaceAny lets Seal replace a regular file that is not a vault. By
// default Seal replaces only a vault (a Fernet token, under any key) or an
// empty file, and refuses, with an error wrapping fs.ErrExist, anything
// else: a plaintext JSON document, a link to ~/.ssh/authorized_keys. A file
// of keys is never replaced, and its refusal does not wrap fs.ErrExist: a
// Fernet key or keyring (a key file), age identities, a recipients file
// ("credvault": "keys/v1"). Nor is a directory, a named pipe or a device.
// WithNoClobber, if also given, wins. Rotate and Update, which replace only
// a vault that opens with their keys, do not take it.
func WithReplaceAny() SealOption {
	return sealOptionFunc(func(o *options) { o.replaceAny = true })
}
