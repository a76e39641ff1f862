package vault

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// MinSecretLen is the length, in bytes, under which a value is not masked.
// Masking "on", "1" or "abc" would garble ordinary output everywhere while
// hiding nothing an attacker could not guess; CircleCI and Travis draw the
// line at the same place. The booleans "true" and "false" (in any case) are
// not masked for the same reason.
const MinSecretLen = 4

// mask is what a secret becomes in redacted output.
const mask = "***"

// A Masker holds the compiled patterns of a set of secrets: every value,
// every line of a multi-line value, and the encoded forms the GitHub runner
// masks too (standard and URL-safe base64, including a secret that starts in
// the middle of a longer base64 string, URL query escaping, and JSON string
// escaping). It is immutable and safe for concurrent use: one Masker serves
// the Redactors of a child's stdout and stderr.
type Masker struct {
	trie   trie
	filter prefixFilter
	skip   shiftTable
	maxLen int // the longest pattern
}

// NewMasker compiles secrets into a Masker. Values shorter than MinSecretLen
// and booleans are left out, and so are derived forms shorter than
// MinSecretLen.
func NewMasker(secrets ...string) *Masker {
	m := &Masker{trie: newTrie()}
	seen := map[string]bool{}
	var patterns []string
	add := func(p string) {
		if len(p) < MinSecretLen || seen[p] {
			return
		}
		seen[p] = true
		patterns = append(patterns, p)
		m.trie.insert(p)
		m.filter.add(p)
		m.maxLen = max(m.maxLen, len(p))
	}
	for _, s := range secrets {
		if len(s) < MinSecretLen || strings.EqualFold(s, "true") || strings.EqualFold(s, "false") {
			continue
		}
		for _, unit := range secretUnits(s) {
			for _, form := range encodedForms(unit) {
				add(form)
			}
		}
	}
	m.trie.compress()
	m.skip = newShiftTable(patterns)
	return m
}

// secretUnits returns s and, for a multi-line value, each of its lines
// without surrounding whitespace: output often reaches a log line by line.
func secretUnits(s string) []string {
	units := []string{s}
	if strings.ContainsAny(s, "\r\n") {
		for _, line := range strings.Split(s, "\n") {
			if l := strings.TrimSpace(line); len(l) >= MinSecretLen {
				units = append(units, l)
			}
		}
	}
	return units
}

// encodedForms returns s and the forms an encoding step may give it.
func encodedForms(s string) []string {
	forms := []string{s}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		// The whole encoding, padded, as a value of its own; then the parts
		// that stay the same inside a longer base64 string.
		forms = append(forms, enc.EncodeToString([]byte(s)))
		forms = append(forms, shiftedBase64(enc, s)...)
	}
	forms = append(forms, url.QueryEscape(s), strings.ReplaceAll(url.QueryEscape(s), "+", "%20"))
	if j, err := json.Marshal(s); err == nil { // escapes <, > and & too, as Go does
		forms = append(forms, string(j[1:len(j)-1]))
	}
	j := appendJSONString(nil, s) // escapes only what JSON requires
	return append(forms, string(j[1:len(j)-1]))
}

// shiftedBase64 returns the base64 text that s becomes inside a longer
// base64 string, for each of the three byte alignments it may start at:
// only the characters that depend on s alone, not on its neighbours.
func shiftedBase64(enc *base64.Encoding, s string) []string {
	var forms []string
	for shift := 0; shift < 3; shift++ {
		padded := make([]byte, shift+len(s))
		copy(padded[shift:], s)
		text := enc.EncodeToString(padded)
		// Characters before `skip` hold bits of the unknown bytes in front;
		// characters from `end` on, bits of the unknown bytes behind.
		skip := []int{0, 2, 3}[shift]
		end := (8 * (shift + len(s))) / 6
		if end > skip {
			forms = append(forms, text[skip:end])
		}
	}
	return forms
}

// A Redactor is a streaming io.WriteCloser that writes what it is given to
// an underlying writer with every secret of its Masker replaced by "***".
//
// A secret split across any sequence of Write calls is still masked: the
// Redactor holds back only the bytes at the end of a write that could be the
// start of a secret, and passes everything else through at once, so the
// output of an interactive program is delayed only while it could be
// printing a secret. Flush writes the held bytes as they are (a secret
// cannot complete any more: use it when the stream pauses for good, not
// between writes); Close flushes and does not close the underlying writer.
//
// Overlapping secrets are masked as one: if one secret ends inside another,
// the whole span becomes "***". A secret that itself contains "***" could be
// formed by masking around it; do not register such values.
//
// A Redactor's methods are safe to call from several goroutines; calls are
// serialized. The two streams of one child need two Redactors (one Masker),
// so that bytes of one stream never complete a secret begun in the other.
type Redactor struct {
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
	return &Redactor{m: m, w: w}
}

// NewRedactor returns a Redactor that writes to w with secrets masked; it is
// NewMasker(secrets...).Redactor(w).
func NewRedactor(w io.Writer, secrets ...string) *Redactor {
	return NewMasker(secrets...).Redactor(w)
}

// Write redacts p and writes what can be written now. It returns len(p)
// unless the underlying writer failed.
func (r *Redactor) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	data := p
	if len(r.held) > 0 {
		r.buf = append(append(r.buf[:0], r.held...), p...)
		data = r.buf
	}
	out, keep, owned := r.m.redact(r.out[:0], data, false)
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

// Flush writes the held bytes, redacted as if the stream ended here.
func (r *Redactor) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	out, _, owned := r.m.redact(r.out[:0], r.held, true)
	err := r.write(out, owned)
	clear(r.held) // the start of a secret, perhaps
	r.held = r.held[:0]
	return err
}

// Close flushes the held bytes. It does not close the underlying writer.
func (r *Redactor) Close() error {
	return r.Flush()
}

// write writes out: the Redactor's own buffer if owned (kept for the next
// call, and cleared, since it held what surrounded secrets), or else a part
// of the data being written, which is not the Redactor's to clear.
func (r *Redactor) write(out []byte, owned bool) error {
	if len(out) == 0 {
		return nil
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
func (m *Masker) redact(out, data []byte, final bool) (result []byte, keep int, owned bool) {
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
		n, open := m.trie.longest(data[i:])
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
			nj, open := m.trie.longest(data[j:])
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

// next returns the first position from i on where a pattern may start, or
// len(data). Where a whole window of the shortest pattern's length fits, it
// skips ahead with the shift table; in the last window it checks each
// position.
func (m *Masker) next(data []byte, i int) int {
	t := &m.skip
	w := t.window
	for pos := i + w - 1; pos < len(data); {
		if s := t.shift[t.hash(data[pos-3:pos+1])]; s > 0 {
			pos += int(s)
			continue
		}
		if start := pos - w + 1; m.filter.maybe(data[start:]) {
			return start
		}
		pos++
	}
	return m.filter.next(data, max(i, len(data)-w+1))
}

// A shiftTable is the skip table of the Wu-Manber algorithm, over 4-byte
// grams: for the gram that ends a window of `window` bytes (the shortest
// pattern's length), how far the window can move without passing the start
// of a pattern. A gram that occurs in no pattern's first `window` bytes
// moves it window-3 bytes: in text without secrets the scan looks at one
// position in a dozen or so.
type shiftTable struct {
	window int
	bits   uint
	shift  []uint8
}

func newShiftTable(patterns []string) shiftTable {
	t := shiftTable{window: MinSecretLen}
	if len(patterns) == 0 {
		return t
	}
	t.window = len(patterns[0])
	for _, p := range patterns {
		t.window = min(t.window, len(p))
	}
	t.window = min(t.window, 255)
	// Size the table at about 4 slots per gram, between 2^12 and 2^20.
	grams := len(patterns) * (t.window - 3)
	t.bits = 12
	for t.bits < 20 && 1<<t.bits < 4*grams {
		t.bits++
	}
	t.shift = make([]uint8, 1<<t.bits)
	for i := range t.shift {
		t.shift[i] = uint8(t.window - 3)
	}
	for _, p := range patterns {
		for end := 4; end <= t.window; end++ {
			h := t.hash([]byte(p[end-4 : end]))
			t.shift[h] = min(t.shift[h], uint8(t.window-end))
		}
	}
	return t
}

func (t *shiftTable) hash(gram []byte) uint32 {
	return (binary.LittleEndian.Uint32(gram) * 0x9E3779B1) >> (32 - t.bits)
}

// A trie holds the patterns for matching at a given position. It is built
// as a plain byte trie and then compressed (compress): chains of single
// children become one label, so that a walk over the unique rest of a long
// secret is one comparison of contiguous bytes rather than a hop per byte.
type trie struct {
	root  [256]int32 // the root's child by the label's first byte; 0 for none
	nodes []trieNode
}

type trieNode struct {
	label    string     // the bytes leading into the node, first byte included
	end      bool       // a pattern ends here
	children []trieEdge // sorted by first byte
}

type trieEdge struct {
	b    byte
	next int32
}

func newTrie() trie { return trie{nodes: make([]trieNode, 1)} }

// insert adds p byte by byte; compress must run after the last insert.
func (t *trie) insert(p string) {
	node := int32(0)
	for i := 0; i < len(p); i++ {
		next := t.child(node, p[i])
		if next == 0 {
			t.nodes = append(t.nodes, trieNode{label: p[i : i+1]})
			next = int32(len(t.nodes) - 1)
			t.addChild(node, p[i], next)
		}
		node = next
	}
	t.nodes[node].end = true
}

func (t *trie) addChild(node int32, b byte, next int32) {
	if node == 0 {
		t.root[b] = next
		return
	}
	edges := t.nodes[node].children
	k, _ := slices.BinarySearchFunc(edges, b, compareEdge)
	t.nodes[node].children = slices.Insert(edges, k, trieEdge{b, next})
}

func compareEdge(e trieEdge, b byte) int { return int(e.b) - int(b) }

// child returns node's child whose label starts with b, or 0.
func (t *trie) child(node int32, b byte) int32 {
	if node == 0 {
		return t.root[b]
	}
	edges := t.nodes[node].children
	if len(edges) == 1 {
		if edges[0].b == b {
			return edges[0].next
		}
		return 0
	}
	if k, found := slices.BinarySearchFunc(edges, b, compareEdge); found {
		return edges[k].next
	}
	return 0
}

// compress merges every node that has one child and ends no pattern with
// that child, and renumbers the nodes compactly.
func (t *trie) compress() {
	var nodes []trieNode
	nodes = append(nodes, trieNode{})
	var visit func(old int32) int32
	visit = func(old int32) int32 {
		n := t.nodes[old]
		label := n.label
		for !n.end && len(n.children) == 1 {
			n = t.nodes[n.children[0].next]
			label += n.label
		}
		nodes = append(nodes, trieNode{label: label, end: n.end})
		idx := int32(len(nodes) - 1)
		children := make([]trieEdge, 0, len(n.children))
		for _, e := range n.children {
			children = append(children, trieEdge{e.b, visit(e.next)})
		}
		nodes[idx].children = children
		return idx
	}
	for b, old := range t.root {
		if old != 0 {
			t.root[b] = visit(old)
		}
	}
	t.nodes = nodes
}

// longest returns the length of the longest pattern that data starts with,
// and whether data ended while a longer pattern could still follow.
func (t *trie) longest(data []byte) (n int, open bool) {
	node, pos := int32(0), 0
	for pos < len(data) {
		node = t.child(node, data[pos])
		if node == 0 {
			return n, false
		}
		label := t.nodes[node].label
		rest := data[pos:]
		if len(rest) < len(label) {
			return n, string(rest) == label[:len(rest)]
		}
		if string(rest[:len(label)]) != label {
			return n, false
		}
		pos += len(label)
		if t.nodes[node].end {
			n = pos
		}
	}
	return n, node != 0 && len(t.nodes[node].children) > 0
}

// A prefixFilter rules out, in one table lookup, most positions where no
// pattern starts: a bitmap of hashes of every pattern's first four bytes
// (every pattern has at least MinSecretLen = 4), and a table of first bytes
// for the last three positions of the data.
type prefixFilter struct {
	bits  [1 << (filterBits - 6)]uint64
	first [256]bool
}

const filterBits = 20 // 2^20 bits, 128 KiB

func filterHash(w uint32) uint32 { return (w * 0x9E3779B1) >> (32 - filterBits) }

func (f *prefixFilter) add(p string) {
	h := filterHash(binary.LittleEndian.Uint32([]byte(p[:4])))
	f.bits[h>>6] |= 1 << (h & 63)
	f.first[p[0]] = true
}

// maybe reports whether a pattern may start data, which holds at least four bytes.
func (f *prefixFilter) maybe(data []byte) bool {
	h := filterHash(binary.LittleEndian.Uint32(data))
	return f.bits[h>>6]&(1<<(h&63)) != 0
}

// next returns the first position from i on where a pattern may start, or
// len(data).
func (f *prefixFilter) next(data []byte, i int) int {
	for ; i+4 <= len(data); i++ {
		h := filterHash(binary.LittleEndian.Uint32(data[i:]))
		if f.bits[h>>6]&(1<<(h&63)) != 0 {
			return i
		}
	}
	for ; i < len(data); i++ {
		if f.first[data[i]] {
			return i
		}
	}
	return len(data)
}
