package vault

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"runtime"
	"slices"
	"sort"
)

// This file holds what a Masker compiles its secrets into, a matcher, and
// how a matcher finds them in output.

// A matcher holds a Masker's compiled patterns. It keeps of each pattern
// its first headLen bytes, its length and, if it is longer, a fingerprint
// of the whole, rather than its text: a pattern is found by its head, and
// told from the text that shares the head by the fingerprint. The forms of
// a secret are some twenty times its bytes, their heads and fingerprints a
// fraction of that. Only where more than longestScan patterns share a head
// does it keep their text (see bigRun).
type matcher struct {
	// parts hold the patterns: pattern i is part 0's i-th, or, past its
	// end, part 1's. Two goroutines form the two halves of many secrets,
	// each into its part; the parts are used as they are, not joined.
	parts   [2]patterns
	seed    maphash.Seed // of the fingerprints
	buckets []uint32     // bucket b's patterns are order[buckets[b]:buckets[b+1]]
	order   []uint32     // pattern indexes, by bucket; sorted within a large one
	bits    uint         // log2 of the number of buckets
	filter  prefixFilter
	skip    skipTable
	maxLen  int // the longest pattern

	// runs holds, by their head, the runs of more than longestScan
	// patterns that share a head of headLen bytes, with their text.
	runs map[[headLen]byte]*bigRun
}

// headLen is the bytes of a pattern that a matcher keeps: the skip table's
// longest window.
const headLen = maxWindow

// patterns are what a matcher keeps of its patterns: pattern i's first
// headLen bytes, zero-padded, are heads[i*headLen:][:headLen], its length
// lens[i], and sums[i] is the fingerprint of a pattern longer than
// headLen (0 for the others). A fingerprint of 32 bits is enough: it tells
// apart only texts that have the head and the length of a form, and a
// collision would mask such a text, not show a secret. runs counts the runs
// of patterns with the same head (the forms of a value often start alike):
// the skip table holds the grams of each run's head once, and it and the
// prefix filter are sized by their number.
type patterns struct {
	heads  []byte
	lens   []uint32
	sums   []uint32
	runs   int
	firsts []uint32 // the index of the first pattern of each secret, and the number of patterns
}

// part returns the part that holds pattern i, and i's index in it.
func (m *matcher) part(i uint32) (*patterns, uint32) {
	if n := uint32(len(m.parts[0].lens)); i >= n {
		return &m.parts[1], i - n
	}
	return &m.parts[0], i
}

// head returns the first headLen bytes of pattern i, zero-padded.
func (m *matcher) head(i uint32) []byte {
	ps, j := m.part(i)
	return ps.heads[int(j)*headLen:][:headLen:headLen]
}

// size returns the length of pattern i.
func (m *matcher) size(i uint32) int {
	ps, j := m.part(i)
	return int(ps.lens[j])
}

// sum returns the fingerprint of pattern i.
func (m *matcher) sum(i uint32) uint32 {
	ps, j := m.part(i)
	return ps.sums[j]
}

// len returns the number of patterns.
func (m *matcher) len() int { return len(m.parts[0].lens) + len(m.parts[1].lens) }

// parallelSecrets is the number of secrets from which compile forms them
// on two goroutines: a millisecond of work, worth a second core.
const parallelSecrets = 512

// formsPerSecret is the number of patterns compile makes room for per
// secret: random values of 32 bytes have 15 to 18. Room that is not used is
// never written, and costs memory only where the allocator clears memory it
// reuses.
const formsPerSecret = 20

// compile forms the patterns of secrets and builds the matcher. With many
// secrets and more than one CPU, two goroutines each form half of them,
// each into a part of the matcher's patterns.
func compile(secrets []string) *matcher {
	seed := maphash.MakeSeed()
	m := &matcher{seed: seed}
	halves := [2][]string{secrets, nil}
	if len(secrets) < parallelSecrets || runtime.GOMAXPROCS(0) < 2 {
		m.parts[0].addSecrets(secrets, seed)
	} else {
		half := len(secrets) / 2
		halves = [2][]string{secrets[:half], secrets[half:]}
		done := make(chan struct{})
		go func() {
			defer close(done)
			m.parts[1].addSecrets(halves[1], seed)
		}()
		m.parts[0].addSecrets(halves[0], seed)
		<-done
	}
	m.build()
	m.tellApart(halves)
	return m
}

// addSecrets adds the forms of secrets, their fingerprints made with seed,
// formed one unit at a time.
func (ps *patterns) addSecrets(secrets []string, seed maphash.Seed) {
	n := formsPerSecret * len(secrets)
	*ps = patterns{heads: make([]byte, 0, n*headLen), lens: make([]uint32, 0, n), sums: make([]uint32, 0, n),
		firsts: make([]uint32, 0, len(secrets)+1)}
	fs := formSet{units: func(fs *formSet) { ps.add(fs, seed) }}
	for _, s := range secrets {
		ps.firsts = append(ps.firsts, uint32(len(ps.lens)))
		// Most values' forms take less than 24 times their bytes.
		fs.text = slices.Grow(fs.text, 24*len(s)+64)
		fs.addSecret(s)
	}
	ps.firsts = append(ps.firsts, uint32(len(ps.lens)))
	clear(fs.text[:cap(fs.text)]) // the forms of the last secrets
	clear(fs.scratch[:cap(fs.scratch)])
}

// add adds the forms of fs's current unit, their fingerprints made with
// seed.
func (ps *patterns) add(fs *formSet, seed maphash.Seed) {
	// Local slices, stored once: forms are made while the garbage
	// collector may be marking, when every pointer written to the heap
	// costs a write barrier.
	heads, lens, sums := ps.heads, ps.lens, ps.sums
	for _, p := range fs.pats {
		form := fs.text[p.off : p.off+p.n]
		var head [headLen]byte
		if len(form) >= headLen {
			head = [headLen]byte(form)
		} else {
			copy(head[:], form)
		}
		if n := len(heads); n == 0 || [headLen]byte(heads[n-headLen:]) != head {
			ps.runs++
		}
		heads = append(heads, head[:]...)
		var sum uint32
		if len(form) > headLen {
			sum = fingerprint(seed, form)
		}
		lens = append(lens, p.n)
		sums = append(sums, sum)
	}
	ps.heads, ps.lens, ps.sums = heads, lens, sums
}

// fingerprint returns the fingerprint of a pattern longer than headLen,
// made with seed.
func fingerprint(seed maphash.Seed, pattern []byte) uint32 {
	return uint32(maphash.Bytes(seed, pattern))
}

// build builds the tables over the patterns: the skip table and prefix
// filter for the scan, and the buckets by the hash of a pattern's first
// four bytes, each sorted, for the match. It is linear in the patterns'
// number, except for sorting the patterns that share a bucket.
func (m *matcher) build() {
	n := m.len()
	// The skip table, the largest of the tables, is built beside the
	// others when they are large.
	if n < 8*parallelSecrets || runtime.GOMAXPROCS(0) < 2 {
		m.skip = newSkipTable(m)
	} else {
		skipped := make(chan struct{})
		go func() {
			defer close(skipped)
			m.skip = newSkipTable(m)
		}()
		defer func() { <-skipped }()
	}
	// A bucket per four patterns: the forms of a value often share their
	// first four bytes, so that most buckets would be empty with more.
	m.bits = 4
	for 4<<m.bits < n {
		m.bits++
	}
	// A counting sort: buckets[b+1] counts bucket b, then, summed, is
	// where bucket b+1 starts, the cursor that fills bucket b+1, and at
	// the end where bucket b+1 ends; shifted by one, where it starts.
	// The pass that counts also fills the prefix filter.
	m.buckets = make([]uint32, 1<<m.bits+1)
	m.filter = newPrefixFilter(m.parts[0].runs + m.parts[1].runs)
	for _, ps := range m.parts {
		for i, size := range ps.lens {
			head := ps.heads[i*headLen:]
			m.buckets[bucketOf(head, m.bits)+1]++
			m.filter.add(head)
			m.maxLen = max(m.maxLen, int(size))
		}
	}
	for b := 1; b < len(m.buckets); b++ {
		m.buckets[b] += m.buckets[b-1]
	}
	m.order = make([]uint32, n)
	i := uint32(0)
	for _, ps := range m.parts {
		for j := range ps.lens {
			b := bucketOf(ps.heads[j*headLen:], m.bits)
			m.order[m.buckets[b]] = i
			m.buckets[b]++
			i++
		}
	}
	copy(m.buckets[1:], m.buckets[:len(m.buckets)-1])
	m.buckets[0] = 0
	// longest searches a bucket of more than longestScan patterns by
	// bisection, and reads the others one by one: only the first need
	// sorting, by head, a pattern shorter than headLen before the longer
	// ones it starts.
	for b := 0; b+1 < len(m.buckets); b++ {
		if lo, hi := m.buckets[b], m.buckets[b+1]; hi-lo > longestScan {
			slices.SortFunc(m.order[lo:hi], m.compareHeads)
		}
	}
}

// compareHeads orders patterns x and y by their heads without padding, and
// those with the same head by length. Their padded heads, read as two
// big-endian words (headLen is 16), and then their lengths order them so:
// a pattern shorter than headLen comes before the longer ones it starts.
func (m *matcher) compareHeads(x, y uint32) int {
	px, i := m.part(x)
	py, j := m.part(y)
	hx, hy := px.heads[int(i)*headLen:], py.heads[int(j)*headLen:]
	if kx, ky := binary.BigEndian.Uint64(hx), binary.BigEndian.Uint64(hy); kx != ky {
		return cmp.Compare(kx, ky)
	}
	if kx, ky := binary.BigEndian.Uint64(hx[8:]), binary.BigEndian.Uint64(hy[8:]); kx != ky {
		return cmp.Compare(kx, ky)
	}
	return cmp.Compare(px.lens[i], py.lens[j])
}

// A bigRun holds the text past the head of a run of more than longestScan
// patterns that share their first headLen bytes: many secrets that start
// alike (a thousand JWTs with one header, webhook URLs with one base), and
// their forms. Where such a run's head shows in output, longest finds the
// longest of them that the text starts with by bisection over their text,
// sorted, rather than by a fingerprint for each of their lengths. Only
// these patterns' text is kept: those of secrets that share a head.
type bigRun struct {
	text []byte   // the patterns' bytes past the head, sorted, each once, end to end
	ends []uint32 // where each pattern's bytes end in text
	// up[0] holds the longest pattern that each starts with, or -1, and
	// up[j] the one 2^j steps up that chain, for as many steps as the
	// longest chain (secrets that start other secrets) needs.
	up [][]int32
}

// rest returns the bytes past the head of the run's i-th pattern.
func (r *bigRun) rest(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = r.ends[i-1]
	}
	return r.text[start:r.ends[i]]
}

// newBigRun returns the bigRun of patterns whose bytes past the head are
// rests, which it sorts.
func newBigRun(rests [][]byte) *bigRun {
	slices.SortFunc(rests, bytes.Compare)
	rests = slices.CompactFunc(rests, bytes.Equal) // a secret stored under two names
	r := &bigRun{ends: make([]uint32, len(rests))}
	// The patterns that a pattern starts with come before it, each after
	// the ones it starts with: those of the one before it, on a stack.
	parents, depths := make([]int32, len(rests)), make([]int, len(rests))
	var starts []int32
	deepest := 0
	for i, rest := range rests {
		r.text = append(r.text, rest...)
		r.ends[i] = uint32(len(r.text))
		for len(starts) > 0 && !bytes.HasPrefix(rest, rests[starts[len(starts)-1]]) {
			starts = starts[:len(starts)-1]
		}
		parents[i] = -1
		if len(starts) > 0 {
			parents[i] = starts[len(starts)-1]
			depths[i] = depths[parents[i]] + 1
			deepest = max(deepest, depths[i])
		}
		starts = append(starts, int32(i))
	}
	r.up = [][]int32{parents}
	for 1<<len(r.up) <= deepest {
		last, next := r.up[len(r.up)-1], make([]int32, len(rests))
		for i, a := range last {
			next[i] = -1
			if a >= 0 {
				next[i] = last[a]
			}
		}
		r.up = append(r.up, next)
	}
	return r
}

// tellApart gives each run of more than longestScan patterns of at least
// headLen bytes with one head, in the sorted buckets, its bigRun: it forms
// again, one at a time, the secrets of halves, as the parts hold them,
// that have patterns in such runs, and keeps those patterns' text.
// Secrets that share no head cost a pass over the sorted buckets.
func (m *matcher) tellApart(halves [2][]string) {
	// The runs, and for each secret that has patterns in them, which of
	// its forms go to which run.
	type secret struct{ part, index int }
	type wanted struct {
		run  int
		form uint32
	}
	var heads [][headLen]byte
	wants := map[secret][]wanted{}
	for b := 0; b+1 < len(m.buckets); b++ {
		order := m.order[m.buckets[b]:m.buckets[b+1]]
		if len(order) <= longestScan {
			continue
		}
		for len(order) > 0 {
			end := 1
			for end < len(order) && string(m.head(order[end])) == string(m.head(order[0])) {
				end++
			}
			run := order[:end]
			order = order[end:]
			for len(run) > 0 && m.size(run[0]) < headLen {
				run = run[1:]
			}
			if len(run) <= longestScan {
				continue
			}
			for _, p := range run {
				k, j := 0, p
				if n := uint32(len(m.parts[0].lens)); p >= n {
					k, j = 1, p-n
				}
				firsts := m.parts[k].firsts
				index := sort.Search(len(firsts), func(i int) bool { return firsts[i] > j }) - 1
				wants[secret{k, index}] = append(wants[secret{k, index}], wanted{len(heads), j - firsts[index]})
			}
			heads = append(heads, [headLen]byte(m.head(run[0])))
		}
	}
	if len(heads) == 0 {
		return
	}
	texts, ends := make([][]byte, len(heads)), make([][]uint32, len(heads))
	var fs formSet
	for s, forms := range wants {
		fs = formSet{text: fs.text[:0], pats: fs.pats[:0], scratch: fs.scratch}
		fs.addSecret(halves[s.part][s.index])
		for _, w := range forms {
			form := fs.pats[w.form]
			texts[w.run] = append(texts[w.run], fs.text[form.off+headLen:form.off+form.n]...)
			ends[w.run] = append(ends[w.run], uint32(len(texts[w.run])))
		}
		clear(fs.text)
	}
	clear(fs.scratch[:cap(fs.scratch)])
	m.runs = make(map[[headLen]byte]*bigRun, len(heads))
	for i, head := range heads {
		rests, start := make([][]byte, len(ends[i])), uint32(0)
		for j, end := range ends[i] {
			rests[j], start = texts[i][start:end], end
		}
		m.runs[head] = newBigRun(rests)
		clear(texts[i])
	}
}

// longest is matcher.longest for data that starts with the run's head,
// given n, the longest pattern shorter than headLen found.
func (r *bigRun) longest(data []byte, n int) (int, bool) {
	t := data[headLen:]
	// The patterns that t starts with start the greatest pattern not
	// after t, which goes on as t does for some bytes: the longest of
	// them is the longest it starts with that is no longer than those.
	// The patterns that start with t, if t ends before them, follow it.
	q := sort.Search(len(r.ends), func(i int) bool { return bytes.Compare(r.rest(i), t) > 0 })
	open := q < len(r.ends) && bytes.HasPrefix(r.rest(q), t)
	if q == 0 {
		return n, open
	}
	same, i := commonPrefix(r.rest(q-1), t), q-1
	if len(r.rest(i)) > same {
		// Up its chain, past those still longer, by halving jumps: the
		// lengths fall along it.
		for j := len(r.up) - 1; j >= 0; j-- {
			if a := r.up[j][i]; a >= 0 && len(r.rest(int(a))) > same {
				i = int(a)
			}
		}
		i = int(r.up[0][i])
	}
	if i < 0 {
		return n, open
	}
	return headLen + len(r.rest(i)), open
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b []byte) int {
	n, i := min(len(a), len(b)), 0
	for ; i+8 <= n; i += 8 { // a word at a time: shared starts can be long
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for ; i < n && a[i] == b[i]; i++ {
	}
	return i
}

// bucketOf returns the bucket, of 1<<bits, of the patterns that may start
// data, which holds at least four bytes.
func bucketOf(data []byte, bits uint) uint32 {
	return (binary.LittleEndian.Uint32(data) * 0x9E3779B1) >> ((32 - bits) & 31)
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
const longestScan = 32

// longest returns the length of the longest pattern that data starts with,
// and whether data ended while a longer pattern could still follow: where
// data ends past a pattern's head, whether it could is told by the head
// alone. Its cost does not grow with the number of patterns that share
// data's head: many are told apart by their text past it (see bigRun), up
// to longestScan by their fingerprints.
func (m *matcher) longest(data []byte) (n int, open bool) {
	if len(data) < MinSecretLen {
		return 0, m.filter.tail(data)
	}
	b := bucketOf(data, m.bits)
	order := m.order[m.buckets[b]:m.buckets[b+1]]
	// The patterns in order all start with data[:k]. While there are many,
	// narrow them down one byte of their heads at a time: they are sorted,
	// so those with the next byte of data at k are a run, found by binary
	// search, and one that ends at k sorts first.
	k := 0
	for len(order) > longestScan && k < headLen {
		for len(order) > 0 && m.size(order[0]) == k {
			n, order = k, order[1:]
		}
		if k == len(data) {
			return n, len(order) > 0
		}
		// They are sorted: if the first and the last go on as data does,
		// all of them do, as where many secrets start alike.
		if len(order) > 0 && len(data) >= headLen && m.size(order[0]) >= headLen &&
			string(m.head(order[0])[k:]) == string(data[k:headLen]) && string(m.head(order[len(order)-1])[k:]) == string(data[k:headLen]) {
			k = headLen
			break
		}
		c := data[k]
		if len(order) > 0 && m.head(order[0])[k] == c && m.head(order[len(order)-1])[k] == c {
			k++
			continue
		}
		lo, _ := slices.BinarySearchFunc(order, c, func(p uint32, c byte) int { return int(m.head(p)[k]) - int(c) })
		hi, _ := slices.BinarySearchFunc(order[lo:], c+1, func(p uint32, c byte) int { return int(m.head(p)[k]) - int(c) })
		if c == 0xff {
			hi = len(order) - lo
		}
		order = order[lo : lo+hi]
		k++
	}
	if len(order) > longestScan { // all start with data's head
		if r := m.runs[[headLen]byte(data)]; r != nil {
			return r.longest(data, n)
		}
	}
	// The few patterns left: those whose head data starts with and whose
	// fingerprint is data's, if they are longer than headLen.
	for _, p := range order {
		size := m.size(p)
		head := m.head(p)[:min(size, headLen)]
		if size <= len(data) {
			if size > n && string(data[k:len(head)]) == string(head[k:]) && (size <= headLen || fingerprint(m.seed, data[:size]) == m.sum(p)) {
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
// `window` bytes, each as two bits of one word (see slot) in a bitmap of
// about 16 bits per gram. When the gram that ends a window of `window`
// bytes is not among them, no pattern can start in the window's first
// window-gram+1 positions, and the window moves that far: in text without
// secrets the scan looks at one position in nine. The bitmap grows with the
// patterns, so that the share of grams that stop the scan, and the cost
// per byte, stay the same whatever their number, up to 1 MiB (about 3,000
// secrets); beyond, that share grows slowly rather than the bitmap
// outgrowing the processor's cache.
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

// newSkipTable returns the skip table of m's patterns.
func newSkipTable(m *matcher) skipTable {
	t := skipTable{window: maxWindow, gram: 8, shift: 64 - 12}
	for _, ps := range m.parts {
		for _, n := range ps.lens {
			t.window = min(t.window, int(n))
		}
	}
	if t.window < maxWindow { // 8-byte grams would skip less than 9 bytes
		t.gram = 4
	}
	grams := (m.parts[0].runs + m.parts[1].runs) * (t.window - t.gram + 1)
	for 1<<(64-t.shift) < 16*grams && t.shift > 64-23 {
		t.shift--
	}
	t.bits = make([]uint64, 1<<(64-t.shift)/64)
	for _, ps := range m.parts {
		// The forms of a value come in a row, and often start alike (an
		// encoding whole and without its end, the variants of an
		// escaping): their grams are set already.
		if t.gram == 8 { // a window of maxWindow, a whole head: 9 grams, parts of two words
			var lastLo, lastHi uint64
			for i := 0; i+headLen <= len(ps.heads); i += headLen {
				lo, hi := binary.LittleEndian.Uint64(ps.heads[i:]), binary.LittleEndian.Uint64(ps.heads[i+8:])
				if lo == lastLo && hi == lastHi && i > 0 {
					continue
				}
				lastLo, lastHi = lo, hi
				t.set(lo)
				t.set(lo>>8 | hi<<56)
				t.set(lo>>16 | hi<<48)
				t.set(lo>>24 | hi<<40)
				t.set(lo>>32 | hi<<32)
				t.set(lo>>40 | hi<<24)
				t.set(lo>>48 | hi<<16)
				t.set(lo>>56 | hi<<8)
				t.set(hi)
			}
			continue
		}
		var last []byte
		for i := 0; i+headLen <= len(ps.heads); i += headLen {
			pat := ps.heads[i:][:t.window]
			if string(pat) == string(last) {
				continue
			}
			last = pat
			for i := 0; i+t.gram <= t.window; i++ {
				t.set(t.gramAt(pat, i))
			}
		}
	}
	return t
}

// set adds a gram.
func (t *skipTable) set(gram uint64) {
	w, bits := t.slot(gram)
	t.bits[w] |= bits
}

// gramAt returns the gram that starts at data[i], as has takes it.
func (t *skipTable) gramAt(data []byte, i int) uint64 {
	if t.gram == 8 {
		return binary.LittleEndian.Uint64(data[i:])
	}
	return uint64(binary.LittleEndian.Uint32(data[i:]))
}

// slot returns the word of the bitmap that holds a gram and the two bits
// that mark it there: the word from the top bits of a hash, the two bits
// from bits of it below those. A gram is held when both bits are set. Two
// bits in one word cost the scan one memory read, as one would, and let
// through far fewer grams that no pattern holds: about 1% rather than 4%
// at a thousand secrets, 4% rather than 10% at ten thousand.
func (t *skipTable) slot(gram uint64) (word, bits uint64) {
	h := gram * 0x9E3779B97F4A7C15
	return h >> ((t.shift + 6) & 63), 1<<(h>>32&63) | 1<<(h>>38&63)
}

// has reports whether a gram, its bytes read little-endian, may be in a
// pattern.
func (t *skipTable) has(gram uint64) bool {
	w, bits := t.slot(gram)
	return t.bits[w]&bits == bits
}

// A prefixFilter rules out, in one table lookup, most positions where no
// pattern starts: a bitmap of hashes of every pattern's first four bytes
// (every pattern has at least MinSecretLen = 4), with about 16 bits per
// distinct head; and for the last three positions of the data, tables of every
// pattern's first byte and first two bytes.
type prefixFilter struct {
	bits  []uint64
	shift uint
	two   [1 << 16 / 64]uint64
	one   [256 / 64]uint64
}

// newPrefixFilter returns an empty prefix filter for patterns with about
// n distinct heads.
func newPrefixFilter(n int) prefixFilter {
	f := prefixFilter{shift: 32 - 12}
	for 1<<(32-f.shift) < 16*n && f.shift > 32-23 {
		f.shift--
	}
	f.bits = make([]uint64, 1<<(32-f.shift)/64)
	return f
}

// add adds a pattern, of which head holds at least the first four bytes.
func (f *prefixFilter) add(head []byte) {
	h := f.hash(head)
	f.bits[h>>6] |= 1 << (h & 63)
	two := uint32(binary.LittleEndian.Uint16(head))
	f.two[two>>6] |= 1 << (two & 63)
	f.one[head[0]>>6] |= 1 << (head[0] & 63)
}

func (f *prefixFilter) hash(data []byte) uint32 {
	return (binary.LittleEndian.Uint32(data) * 0x9E3779B1) >> (f.shift & 31)
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
