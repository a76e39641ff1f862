package vault

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
)

// MinSecretLen is the length, in bytes, under which a value is not masked:
// see [IsMaskable] for the whole rule.
const MinSecretLen = 4

// mask is what a secret becomes in redacted output.
const mask = "***"

// A Masker masks a set of secrets: every value the masking rule
// ([IsMaskable]) applies to, the value without surrounding whitespace,
// every line of a multi-line value, and the forms that everyday tools print
// them in: base64 in both alphabets, whole, inside a longer encoding at any
// alignment, and wrapped at 76 or 64 columns, and of the value in UTF-16
// (PowerShell's -EncodedCommand); hex, as xxd -p writes it; URL escaping as
// Go, Python, JavaScript and jq write it; HTML and XML escaping, in text and
// attributes; JSON string escaping as Go, Python and JavaScript write it;
// the string literals of Python (repr, ascii, unicode_escape), Perl's
// Data::Dumper, PyYAML and CSV; and shell quoting (POSIX single quotes,
// bash's printf %q, set -x and declare -p, Python's shlex.quote). It is
// safe for concurrent use: one Masker serves the Redactors of a child's
// stdout and stderr.
//
// A Masker compiles its patterns when one of its Redactors first has
// output to scan, so that a program that prints nothing costs nothing;
// compiling takes time linear in the size of the forms, about twenty times
// the secrets' bytes, and keeps of each form its first 16 bytes and a
// fingerprint of the whole: about 0.8 KB in all, tables included, for a
// random value of 32 bytes and its 15 to 18 forms; it uses two CPUs for
// hundreds of secrets. Of the forms of more than 32 patterns that share
// their first 16 bytes (a thousand JWTs with one header), it keeps the
// text, which tells them apart. Then its cost per byte of output does not
// grow with the number of secrets: a skip table lets the scan pass over
// most of a text that holds no secret without looking at every byte, and
// where a secret may start, one hash lookup finds the patterns that could
// start there, and a bisection over their text the longest, however many
// share their first bytes.
//
// Printing a Masker, with any fmt verb or through log/slog, shows
// "vault.Masker(redacted)", never a secret. The zero Masker masks nothing.
type Masker struct {
	// compiled returns the compiled patterns, compiling them on the first
	// call. Like Key's secret, it is a func so that fmt, printing a struct
	// that holds a Masker by reflection, shows an address and no secret.
	compiled func() *matcher
}

// NewMasker returns a Masker of secrets. Values that the masking rule
// leaves out ([IsMaskable]) are not masked, and neither are derived forms
// shorter than MinSecretLen.
func NewMasker(secrets ...string) *Masker {
	return newMasker(slices.Clone(secrets))
}

// newMasker is NewMasker without the copy: the Masker takes secrets over.
func newMasker(secrets []string) *Masker {
	return lazyMasker(func() []string { return secrets })
}

// lazyMasker returns a Masker of the secrets that secrets returns, called
// when the Masker compiles, if ever, and then dropped.
func lazyMasker(secrets func() []string) *Masker {
	return &Masker{compiled: sync.OnceValue(func() *matcher {
		t := compile(secrets())
		secrets = nil
		return t
	})}
}

// matcher returns the Masker's patterns, compiled once; the zero Masker's
// match nothing.
func (m *Masker) matcher() *matcher {
	if m == nil || m.compiled == nil {
		return compile(nil)
	}
	return m.compiled()
}

// String returns "vault.Masker(redacted)": a Masker never shows its secrets.
func (m *Masker) String() string { return "vault.Masker(redacted)" }

// GoString returns the same as String, so that %#v shows no secret.
func (m *Masker) GoString() string { return m.String() }

// Format implements fmt.Formatter so that every verb prints String.
func (m *Masker) Format(f fmt.State, verb rune) { fmt.Fprint(f, m.String()) }

// LogValue implements slog.LogValuer with the same text.
func (m *Masker) LogValue() slog.Value { return slog.StringValue(m.String()) }

// notSecret returns the values that opts declare not secret ([NotSecret]):
// every value at or below one of the paths, unless the same value is also
// found elsewhere in doc. It is nil when no path is declared.
func notSecret(name string, doc node, opts []FlattenOption) (map[string]bool, error) {
	var o flattenOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if len(o.notSecret) == 0 {
		return nil, nil
	}
	var declared [][]string
	for _, p := range o.notSecret {
		segs, err := parsePath(p)
		if err != nil {
			return nil, fmt.Errorf("vault: not secret: %w", err)
		}
		if _, err := lookup(name, p, doc, segs); err != nil {
			return nil, err
		}
		declared = append(declared, segs)
	}
	public, secret := map[string]bool{}, map[string]bool{}
	var walk func(n node, segs []string, under bool)
	walk = func(n node, segs []string, under bool) {
		for _, d := range declared {
			under = under || slices.Equal(d, segs)
		}
		switch n.kind() {
		case kindObject:
			for _, m := range n.members() {
				walk(m.val, append(segs, m.key), under)
			}
		case kindArray:
			for i, x := range n.elems() {
				walk(x, append(segs, strconv.Itoa(i)), under)
			}
		default:
			if v, _ := scalarText(n); under {
				public[v] = true
			} else {
				secret[v] = true
			}
		}
	}
	walk(doc, nil, false)
	for v := range secret {
		delete(public, v)
	}
	return public, nil
}

// A Redactor is a streaming io.WriteCloser that writes what it is given to
// an underlying writer with every secret of its Masker replaced by "***".
//
// A secret split across any sequence of Write calls is still masked: the
// Redactor holds back only the bytes at the end of a write that could be the
// start of a secret, and passes everything else through at once, so the
// output of an interactive program is delayed only while it could be
// printing a secret. (Past the first 16 bytes of one of a secret's forms,
// the Redactor cannot tell a departure from the form until the text is as
// long as it: such text is held until then.) Flush writes the held bytes as they are (a secret
// cannot complete any more: use it when the stream pauses for good, not
// between writes); Close flushes and does not close the underlying writer.
//
// Overlapping secrets are masked as one: if one secret ends inside another,
// the whole span becomes "***". A secret that itself contains "***" could be
// formed by masking around it; do not register such values.
//
// A Redactor's methods are safe to call from several goroutines; calls are
// serialized. The two streams of one child need two Redactors (one Masker),
// so that bytes of one stream never complete a secret begun in the other,
// unless they go to the same writer: then one Redactor serves both, as
// [Vault.Run] does.
//
// Printing a Redactor, with any fmt verb or through log/slog, shows
// "vault.Redactor(redacted)", never the bytes it holds back. The zero
// Redactor is not usable: make one with [Masker.Redactor] or [NewRedactor].
type Redactor struct {
	// state returns the Redactor's buffers; a func, as in Masker, so that
	// fmt shows no held bytes.
	state func() *redactor
}

// redactor is a Redactor's state.
type redactor struct {
	mu   sync.Mutex
	m    *Masker
	w    io.Writer
	held []byte // bytes that could start a secret; cleared when released
	buf  []byte // held bytes and the new ones, being scanned; cleared after use
	out  []byte // the redacted output of one Write
	err  error  // the underlying writer's first error
}

// Redactor returns a new Redactor that writes to w.
func (m *Masker) Redactor(w io.Writer) *Redactor {
	r := &redactor{m: m, w: w}
	return &Redactor{state: func() *redactor { return r }}
}

// NewRedactor returns a Redactor that writes to w with secrets masked; it is
// NewMasker(secrets...).Redactor(w).
func NewRedactor(w io.Writer, secrets ...string) *Redactor {
	return NewMasker(secrets...).Redactor(w)
}

// errNoRedactor is the error of every method of a Redactor that was not
// made by Masker.Redactor or NewRedactor.
var errNoRedactor = errors.New("vault: the Redactor was not made by Masker.Redactor or NewRedactor")

// get returns r's state, or an error for the zero Redactor.
func (r *Redactor) get() (*redactor, error) {
	if r == nil || r.state == nil {
		return nil, errNoRedactor
	}
	return r.state(), nil
}

// Write redacts p and writes what can be written now. It returns len(p)
// unless the underlying writer failed.
func (r *Redactor) Write(p []byte) (int, error) {
	s, err := r.get()
	if err != nil {
		return 0, err
	}
	return s.Write(p)
}

// Flush writes the held bytes, redacted as if the stream ended here.
func (r *Redactor) Flush() error {
	s, err := r.get()
	if err != nil {
		return err
	}
	return s.Flush()
}

// Close flushes the held bytes. It does not close the underlying writer.
func (r *Redactor) Close() error {
	return r.Flush()
}

// String returns "vault.Redactor(redacted)": a Redactor never shows the
// bytes it holds back.
func (r *Redactor) String() string { return "vault.Redactor(redacted)" }

// GoString returns the same as String, so that %#v shows no secret.
func (r *Redactor) GoString() string { return r.String() }

// Format implements fmt.Formatter so that every verb prints String.
func (r *Redactor) Format(f fmt.State, verb rune) { fmt.Fprint(f, r.String()) }

// LogValue implements slog.LogValuer with the same text.
func (r *Redactor) LogValue() slog.Value { return slog.StringValue(r.String()) }

func (r *redactor) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	data := p
	if len(r.held) > 0 {
		r.buf = append(append(r.buf[:0], r.held...), p...)
		data = r.buf
	}
	out, keep, owned := r.m.matcher().redact(r.out[:0], data, false)
	err := r.write(out, owned)
	held := append(r.held[:0], data[keep:]...)
	if len(r.held) > 0 {
		clear(r.buf[:len(data)]) // the joined copy held what was masked
	}
	r.held = held
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func (r *redactor) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil || len(r.held) == 0 {
		return r.err
	}
	out, _, owned := r.m.matcher().redact(r.out[:0], r.held, true)
	err := r.write(out, owned)
	clear(r.held) // the start of a secret, perhaps
	r.held = r.held[:0]
	return err
}

// write writes out: the Redactor's own buffer if owned (kept for the next
// call, and cleared, since it held what surrounded secrets), or else a part
// of the data being written, which is not the Redactor's to clear.
func (r *redactor) write(out []byte, owned bool) error {
	if len(out) == 0 {
		return nil
	}
	if r.w == nil {
		r.err = errors.New("vault: the Redactor has no writer: give Masker.Redactor or NewRedactor one")
		return r.err
	}
	_, err := r.w.Write(out)
	if owned {
		clear(out)
		r.out = out[:0]
	}
	if err != nil {
		r.err = err
	}
	return err
}
