package vault

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"runtime"
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
// fingerprint of the rest: about 0.8 KB in all, tables included, for a
// random value of 32 bytes and its 15 forms; it uses two CPUs for
// thousands of secrets. Then its
// cost per byte of output does not grow with the number of secrets: a skip
// table lets the scan pass over most of a text that holds no secret without
// looking at every byte, and where a secret may start, one hash lookup
// finds the few patterns that could start there.
//
// Printing a Masker, with any fmt verb or through log/slog, shows
// "vault.Masker(redacted)", never a secret. The zero Masker masks nothing.
type Masker struct {
	// compiled returns the compiled patterns, compiling them on the first
	// call. Like Key's secret, it is a func so that fmt, printing a struct
	// that holds a Masker by reflection, shows an address and no secret.
	compiled func() *matcher
}

// A matcher holds a Masker's compiled patterns. It keeps of each pattern
// its first headLen bytes, its length and, if it is longer, a fingerprint
// of the whole, rather than its text: a pattern is found by its head, and
// told from the text that shares the head by the fingerprint. The forms of
// a secret are some twenty times its bytes, their heads and fingerprints a
// fraction of that.
type matcher struct {
	patterns
	seed    maphash.Seed // of the fingerprints
	buckets []uint32     // bucket b's patterns are order[buckets[b]:buckets[b+1]]
	order   []uint32     // pattern indexes, by bucket, sorted by head within one
	bits    uint         // log2 of the number of buckets
	filter  prefixFilter
	skip    skipTable
	maxLen  int // the longest pattern
}

// headLen is the bytes of a pattern that a matcher keeps: the skip table's
// longest window.
const headLen = maxWindow

// patterns are what a matcher keeps of its patterns: pattern i's first
// headLen bytes, zero-padded, are heads[i*headLen:][:headLen], its length
// lens[i], and sums[i] is the fingerprint of a pattern longer than
// headLen (0 for the others).
type patterns struct {
	heads []byte
	lens  []uint32
	sums  []uint64
}

// makePatterns returns patterns with room for n.
func makePatterns(n int) patterns {
	return patterns{heads: make([]byte, 0, n*headLen), lens: make([]uint32, 0, n), sums: make([]uint64, 0, n)}
}

// head returns the first headLen bytes of pattern i, zero-padded.
func (ps *patterns) head(i uint32) []byte {
	return ps.heads[int(i)*headLen:][:headLen:headLen]
}

// add adds the forms of fs, their fingerprints made with seed.
func (ps *patterns) add(fs *formSet, seed maphash.Seed) {
	for _, p := range fs.pats {
		form := fs.text[p.off : p.off+p.n]
		var head [headLen]byte
		copy(head[:], form)
		var sum uint64
		if len(form) > headLen {
			sum = maphash.Bytes(seed, form)
		}
		ps.heads = append(ps.heads, head[:]...)
		ps.lens = append(ps.lens, p.n)
		ps.sums = append(ps.sums, sum)
	}
}

// addSecrets adds the forms of secrets, formed one unit (a value, the
// value trimmed, a line of it) at a time.
func (ps *patterns) addSecrets(secrets []string, seed maphash.Seed) {
	fs := formSet{units: func(fs *formSet) { ps.add(fs, seed) }}
	for _, s := range secrets {
		// Most values' forms take less than 24 times their bytes.
		fs.text = slices.Grow(fs.text, 24*len(s)+64)
		fs.addSecret(s)
	}
	clear(fs.text[:cap(fs.text)]) // the forms of the last secrets
	clear(fs.scratch[:cap(fs.scratch)])
}

// len returns the number of patterns.
func (ps *patterns) len() int { return len(ps.lens) }

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

// parallelSecrets is the number of secrets from which compile forms them
// on two goroutines: a few milliseconds of work, worth a second core.
const parallelSecrets = 2048

// formsPerSecret is the number of patterns compile makes room for per
// secret: random values of 32 bytes have about 15.
const formsPerSecret = 16

// compile forms the patterns of secrets and builds the matcher. With many
// secrets and more than one CPU, two goroutines each form half of them,
// into the two parts of one set of patterns; a half that outgrows its part
// (a value of many lines) is copied after.
func compile(secrets []string) *matcher {
	seed := maphash.MakeSeed()
	if len(secrets) < parallelSecrets || runtime.GOMAXPROCS(0) < 2 {
		ps := makePatterns(formsPerSecret * len(secrets))
		ps.addSecrets(secrets, seed)
		return newMatcher(ps, seed)
	}
	first, second := secrets[:len(secrets)/2], secrets[len(secrets)/2:]
	split := formsPerSecret * len(first)
	all := makePatterns(split + formsPerSecret*len(second))
	all.heads, all.lens, all.sums = all.heads[:cap(all.heads)], all.lens[:cap(all.lens)], all.sums[:cap(all.sums)]
	a := patterns{heads: all.heads[: 0 : split*headLen], lens: all.lens[:0:split], sums: all.sums[:0:split]}
	b := patterns{heads: all.heads[split*headLen : split*headLen], lens: all.lens[split:split], sums: all.sums[split:split]}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.addSecrets(second, seed)
	}()
	a.addSecrets(first, seed)
	<-done
	if n := a.len() + b.len(); a.len() <= split && n <= all.len() {
		// a is in place; b's patterns move down to follow it.
		copy(all.heads[a.len()*headLen:], b.heads)
		copy(all.lens[a.len():], b.lens)
		copy(all.sums[a.len():], b.sums)
		return newMatcher(patterns{heads: all.heads[:n*headLen], lens: all.lens[:n], sums: all.sums[:n]}, seed)
	}
	return newMatcher(patterns{
		heads: append(a.heads[:len(a.heads):len(a.heads)], b.heads...),
		lens:  append(a.lens[:len(a.lens):len(a.lens)], b.lens...),
		sums:  append(a.sums[:len(a.sums):len(a.sums)], b.sums...),
	}, seed)
}

// String returns "vault.Masker(redacted)": a Masker never shows its secrets.
func (m *Masker) String() string { return "vault.Masker(redacted)" }

// GoString returns the same as String, so that %#v shows no secret.
func (m *Masker) GoString() string { return m.String() }

// Format implements fmt.Formatter so that every verb prints String.
func (m *Masker) Format(f fmt.State, verb rune) { fmt.Fprint(f, m.String()) }

// LogValue implements slog.LogValuer with the same text.
func (m *Masker) LogValue() slog.Value { return slog.StringValue(m.String()) }

// newMatcher builds the tables over the patterns: the skip table and prefix
// filter for the scan, and the buckets by the hash of a pattern's first four
// bytes, each sorted, for the match. It is linear in the patterns' number,
// except for sorting the patterns that share a bucket.
func newMatcher(ps patterns, seed maphash.Seed) *matcher {
	m := &matcher{patterns: ps, seed: seed}
	for _, n := range ps.lens {
		m.maxLen = max(m.maxLen, int(n))
	}
	// The skip table, the largest of the tables, is built beside the
	// others when they are large.
	if ps.len() < 8*parallelSecrets || runtime.GOMAXPROCS(0) < 2 {
		m.skip = newSkipTable(&ps)
	} else {
		skipped := make(chan struct{})
		go func() {
			defer close(skipped)
			m.skip = newSkipTable(&ps)
		}()
		defer func() { <-skipped }()
	}
	m.filter = newPrefixFilter(&ps)

	// A bucket per four patterns: the forms of a value often share their
	// first four bytes, so that most buckets would be empty with more.
	m.bits = 4
	for 4<<m.bits < ps.len() {
		m.bits++
	}
	m.buckets = make([]uint32, 1<<m.bits+1)
	// A counting sort: buckets[b+1] counts bucket b, then, summed, is
	// where bucket b+1 starts, the cursor that fills bucket b+1, and at
	// the end where bucket b+1 ends; shifted by one, where it starts.
	for i := range ps.len() {
		m.buckets[m.bucket(ps.head(uint32(i)))+1]++
	}
	for b := 1; b < len(m.buckets); b++ {
		m.buckets[b] += m.buckets[b-1]
	}
	m.order = make([]uint32, ps.len())
	for i := range ps.len() {
		b := m.bucket(ps.head(uint32(i)))
		m.order[m.buckets[b]] = uint32(i)
		m.buckets[b]++
	}
	copy(m.buckets[1:], m.buckets[:len(m.buckets)-1])
	m.buckets[0] = 0
	// longest searches a bucket of more than longestScan patterns by
	// bisection, and reads the others one by one: only the first need
	// sorting, by head, a pattern shorter than headLen before the longer
	// ones it starts.
	for b := 0; b+1 < len(m.buckets); b++ {
		if lo, hi := m.buckets[b], m.buckets[b+1]; hi-lo > longestScan {
			slices.SortFunc(m.order[lo:hi], func(x, y uint32) int { return bytes.Compare(m.shortHead(x), m.shortHead(y)) })
		}
	}
	return m
}

// shortHead returns the head of pattern i without its padding.
func (m *matcher) shortHead(i uint32) []byte {
	return m.head(i)[:min(m.lens[i], headLen)]
}

// bucket returns the bucket of the patterns that may start data, which
// holds at least four bytes.
func (m *matcher) bucket(data []byte) uint32 {
	return (binary.LittleEndian.Uint32(data) * 0x9E3779B1) >> (32 - m.bits)
}

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

// redact returns data with every match replaced by the mask, and how much of
// data it consumed: all of it when final, otherwise up to the first byte
// that could start a secret not yet complete. When nothing is masked the
// result is a part of data, not a copy, and owned is false; otherwise it is
// built in out.
func (m *matcher) redact(out, data []byte, final bool) (result []byte, keep int, owned bool) {
	emitted, masked := 0, false
	done := func(keep int) ([]byte, int, bool) {
		if !masked {
			return data[:keep], keep, false
		}
		return append(out, data[emitted:keep]...), keep, true
	}
	if m.maxLen == 0 {
		return done(len(data))
	}
	i := 0
	for i < len(data) {
		i = m.next(data, i)
		if i == len(data) {
			break
		}
		n, open := m.longest(data[i:])
		if open && !final {
			return done(i)
		}
		if n == 0 {
			i++
			continue
		}
		// Extend over secrets that start inside this one and end later.
		end := i + n
		for j := m.filter.next(data[:end], i+1); j < end; j = m.filter.next(data[:end], j+1) {
			nj, open := m.longest(data[j:])
			if open && !final {
				return done(i)
			}
			end = max(end, j+nj)
		}
		out = append(out, data[emitted:i]...)
		out = append(out, mask...)
		emitted, i, masked = end, end, true
	}
	return done(len(data))
}

// longestScan is the number of patterns of a bucket that longest reads one
// by one; it narrows a larger bucket, which is sorted, by bisection.
const longestScan = 8

// longest returns the length of the longest pattern that data starts with,
// and whether data ended while a longer pattern could still follow: where
// data ends past a pattern's head, whether it could is told by the head
// alone.
func (m *matcher) longest(data []byte) (n int, open bool) {
	if len(data) < MinSecretLen {
		return 0, m.filter.tail(data)
	}
	b := m.bucket(data)
	order := m.order[m.buckets[b]:m.buckets[b+1]]
	// The patterns in order all start with data[:k]. While there are many,
	// narrow them down one byte of their heads at a time: they are sorted,
	// so those with the next byte of data at k are a run, found by binary
	// search, and one that ends at k sorts first.
	k := 0
	for len(order) > longestScan && k < headLen {
		for len(order) > 0 && int(m.lens[order[0]]) == k {
			n, order = k, order[1:]
		}
		if k == len(data) {
			return n, len(order) > 0
		}
		c := data[k]
		lo, _ := slices.BinarySearchFunc(order, c, func(p uint32, c byte) int { return int(m.heads[int(p)*headLen+k]) - int(c) })
		hi, _ := slices.BinarySearchFunc(order[lo:], c+1, func(p uint32, c byte) int { return int(m.heads[int(p)*headLen+k]) - int(c) })
		if c == 0xff {
			hi = len(order) - lo
		}
		order = order[lo : lo+hi]
		k++
	}
	for _, p := range order {
		size := int(m.lens[p])
		head := m.head(p)[:min(size, headLen)]
		if size <= len(data) {
			if size > n && string(data[k:len(head)]) == string(head[k:]) && (size <= headLen || maphash.Bytes(m.seed, data[:size]) == m.sums[p]) {
				n = size
			}
		} else if end := min(len(data), len(head)); string(data[k:end]) == string(head[k:end]) {
			open = true
		}
	}
	return n, open
}

// next returns the first position from i on where a pattern may start, or
// len(data). Where a whole window of the shortest pattern's length fits, it
// skips ahead with the shift table; in the last window it checks each
// position.
func (m *matcher) next(data []byte, i int) int {
	t := &m.skip
	w := t.window
	if t.gram == 8 {
		for pos := i + w - 1; pos < len(data); {
			if !t.has(binary.LittleEndian.Uint64(data[pos-7:])) {
				pos += w - 7
				continue
			}
			if start := pos - w + 1; m.filter.maybe(data[start:]) {
				return start
			}
			pos++
		}
	} else {
		for pos := i + w - 1; pos < len(data); {
			if !t.has(uint64(binary.LittleEndian.Uint32(data[pos-3:]))) {
				pos += w - 3
				continue
			}
			if start := pos - w + 1; m.filter.maybe(data[start:]) {
				return start
			}
			pos++
		}
	}
	return m.filter.next(data, max(i, len(data)-w+1))
}

// A skipTable lets the scan pass over text without secrets, in the manner
// of the Wu-Manber algorithm: it holds the grams of every pattern's first
// `window` bytes, hashed into a bitmap of about 16 bits per gram. When the
// gram that ends a window of `window` bytes is not among them, no pattern
// can start in the window's first window-gram+1 positions, and the window
// moves that far: in text without secrets the scan looks at one position in
// nine. The bitmap grows with the patterns, so that the share of grams that
// stop the scan, and the cost per byte, stay the same whatever their
// number, up to 1 MiB (about 4,000 secrets); beyond, that share grows slowly
// rather than the bitmap outgrowing the processor's cache.
//
// Grams are 8 bytes when every pattern is at least maxWindow long, the
// common case. A gram of 4 hex digits holds 2 bytes of a secret: the hex
// forms of a few thousand secrets would hold most such grams, and stop the
// scan all along any hex in the output (hashes, IDs), which logs are full
// of. Shorter patterns (values of 4 to 15 bytes) need 4-byte grams and a
// shorter window, and make the scan slower: declare values that are not
// secret ([NotSecret]).
type skipTable struct {
	window int  // the bytes of each pattern whose grams are held
	gram   int  // the bytes of a gram: 8, or 4 for a shorter window
	shift  uint // 64 less the bits of a gram's hash
	bits   []uint64
}

// maxWindow bounds the window: a longer one skips further, but costs more
// grams to build and to hold.
const maxWindow = 16

func newSkipTable(ps *patterns) skipTable {
	t := skipTable{window: maxWindow, gram: 8, shift: 64 - 12}
	for _, n := range ps.lens {
		t.window = min(t.window, int(n))
	}
	if t.window < maxWindow { // 8-byte grams would skip less than 9 bytes
		t.gram = 4
	}
	grams := ps.len() * (t.window - t.gram + 1)
	for 1<<(64-t.shift) < 16*grams && t.shift > 64-23 {
		t.shift--
	}
	t.bits = make([]uint64, 1<<(64-t.shift)/64)
	var last []byte
	for i := range ps.len() {
		pat := ps.head(uint32(i))[:t.window]
		// The forms of a value come in a row, and often start alike
		// (an encoding whole and without its end, the variants of an
		// escaping): their grams are set already.
		if string(pat) == string(last) {
			continue
		}
		last = pat
		for i := 0; i+t.gram <= t.window; i++ {
			h := t.hash(t.gramAt(pat, i))
			t.bits[h>>6] |= 1 << (h & 63)
		}
	}
	return t
}

// gramAt returns the gram that starts at data[i], as has takes it.
func (t *skipTable) gramAt(data []byte, i int) uint64 {
	if t.gram == 8 {
		return binary.LittleEndian.Uint64(data[i:])
	}
	return uint64(binary.LittleEndian.Uint32(data[i:]))
}

// hash returns the bit of a gram in the bitmap.
func (t *skipTable) hash(gram uint64) uint64 {
	return gram * 0x9E3779B97F4A7C15 >> t.shift
}

// has reports whether a gram, its bytes read little-endian, may be in a
// pattern.
func (t *skipTable) has(gram uint64) bool {
	h := t.hash(gram)
	return t.bits[h>>6]&(1<<(h&63)) != 0
}

// A prefixFilter rules out, in one table lookup, most positions where no
// pattern starts: a bitmap of hashes of every pattern's first four bytes
// (every pattern has at least MinSecretLen = 4), with about 16 bits per
// pattern; and for the last three positions of the data, tables of every
// pattern's first byte and first two bytes.
type prefixFilter struct {
	bits  []uint64
	shift uint
	two   [1 << 16 / 64]uint64
	one   [256 / 64]uint64
}

func newPrefixFilter(ps *patterns) prefixFilter {
	f := prefixFilter{shift: 32 - 12}
	for 1<<(32-f.shift) < 16*ps.len() && f.shift > 32-23 {
		f.shift--
	}
	f.bits = make([]uint64, 1<<(32-f.shift)/64)
	for i := range ps.len() {
		head := ps.head(uint32(i))
		h := f.hash(head)
		f.bits[h>>6] |= 1 << (h & 63)
		two := uint32(binary.LittleEndian.Uint16(head))
		f.two[two>>6] |= 1 << (two & 63)
		f.one[head[0]>>6] |= 1 << (head[0] & 63)
	}
	return f
}

func (f *prefixFilter) hash(data []byte) uint32 {
	return (binary.LittleEndian.Uint32(data) * 0x9E3779B1) >> f.shift
}

// maybe reports whether a pattern may start data, which holds at least four bytes.
func (f *prefixFilter) maybe(data []byte) bool {
	h := f.hash(data)
	return f.bits[h>>6]&(1<<(h&63)) != 0
}

// tail reports whether a pattern may start with data, which holds fewer than
// four bytes.
func (f *prefixFilter) tail(data []byte) bool {
	switch len(data) {
	case 0:
		return false
	case 1:
		return f.one[data[0]>>6]&(1<<(data[0]&63)) != 0
	}
	two := uint32(binary.LittleEndian.Uint16(data))
	return f.two[two>>6]&(1<<(two&63)) != 0
}

// next returns the first position from i on where a pattern may start, or
// len(data).
func (f *prefixFilter) next(data []byte, i int) int {
	for ; i+4 <= len(data); i++ {
		if f.maybe(data[i:]) {
			return i
		}
	}
	for ; i < len(data); i++ {
		if f.tail(data[i:]) {
			return i
		}
	}
	return len(data)
}
