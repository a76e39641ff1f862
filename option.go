package vault

import "time"

// An Option changes how Open, OpenFS, Seal and the other operations behave.
// Options are made only by the With functions of this package. When the same
// option is given twice, the last one wins.
type Option interface {
	apply(*options)
}

type options struct {
	now         func() time.Time
	maxAge      time.Duration
	lockTimeout time.Duration

	auditor       Auditor
	auditFailOpen bool
	pipeline      Pipeline
	keySource     string

	// failpoint, when set, is called at named moments of a write and may
	// return an error to simulate a failure there. Only tests set it.
	failpoint func(stage string) error
}

// defaultLockTimeout bounds how long a writer waits for another writer of
// the same directory to finish.
const defaultLockTimeout = 10 * time.Second

func newOptions(opts []Option) *options {
	o := &options{now: time.Now, lockTimeout: defaultLockTimeout}
	for _, opt := range opts {
		opt.apply(o)
	}
	return o
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithMaxAge makes Open refuse, with ErrExpired, a vault sealed longer than d
// ago, or sealed more than a minute in the future (clock skew). It is
// Python's Fernet.decrypt(token, ttl=d). Zero, the default, accepts any age.
//
// Sealing and rotation set the vault's timestamp to the time they run, so a
// maximum age is a policy that a vault must be rotated at least that often.
func WithMaxAge(d time.Duration) Option {
	return optionFunc(func(o *options) { o.maxAge = d })
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

// WithLockTimeout sets how long a write (Seal, Rotate, an update) waits for
// another writer of the same vault directory before it fails; the default is
// 10 seconds. Zero or less means try once and fail at once if busy.
func WithLockTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) { o.lockTimeout = d })
}
