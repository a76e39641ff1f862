package vault

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// redactAll writes text through a fresh Redactor in one Write and closes it.
func redactAll(t testing.TB, m *Masker, text string) string {
	t.Helper()
	var out bytes.Buffer
	r := m.Redactor(&out)
	if _, err := r.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// redactChunked writes text in chunks of random sizes, from 1 byte up.
func redactChunked(t testing.TB, m *Masker, text string, rng *rand.Rand) string {
	t.Helper()
	var out bytes.Buffer
	r := m.Redactor(&out)
	for len(text) > 0 {
		n := 1 + rng.IntN(min(len(text), 17))
		if _, err := r.Write([]byte(text[:n])); err != nil {
			t.Fatal(err)
		}
		text = text[n:]
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestRedactorForms(t *testing.T) {
	const secret = "s3cret/P@ss+word? &<x>"
	m := NewMasker(secret, "-----BEGIN KEY-----\nMIIEpAIBAAKCAQEA\n-----END KEY-----")
	tests := map[string]string{
		"exact":            secret,
		"a line":           "MIIEpAIBAAKCAQEA",
		"base64":           base64.StdEncoding.EncodeToString([]byte(secret)),
		"URL-safe base64":  base64.URLEncoding.EncodeToString([]byte(secret)),
		"query escaped":    url.QueryEscape(secret),
		"path escaped":     strings.ReplaceAll(url.QueryEscape(secret), "+", "%20"),
		"JSON":             string(mustJSON(secret)),
		"JSON, Go's HTML":  `s3cret/P@ss+word? \u0026\u003cx\u003e`,
		"JSON, plain":      `s3cret/P@ss+word? &<x>`,
		"multi-line value": "-----BEGIN KEY-----\nMIIEpAIBAAKCAQEA\n-----END KEY-----",
	}
	for name, form := range tests {
		t.Run(name, func(t *testing.T) {
			// Whole: nothing of the form is left, not even its padding.
			if got := redactAll(t, m, "before "+form+" after"); got != "before *** after" {
				t.Errorf("output %q, want %q", got, "before *** after")
			}
		})
	}
}

func mustJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b[1 : len(b)-1]
}

// TestRedactorShiftedBase64: a secret inside a longer base64 string, at any
// of the three alignments, is masked; the characters that depend on its
// neighbours stay.
func TestRedactorShiftedBase64(t *testing.T) {
	const secret = "hunter2-is-the-password"
	m := NewMasker(secret)
	for shift := range 3 {
		for _, tail := range []string{"", "x", "xy", "xyz"} {
			blob := strings.Repeat("A", shift) + secret + tail
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
				text := "Authorization: Basic " + enc.EncodeToString([]byte(blob))
				got := redactAll(t, m, text)
				if !strings.Contains(got, "***") {
					t.Errorf("shift %d, tail %q: %q not masked", shift, tail, text)
				}
				decoded, _ := enc.DecodeString(strings.TrimPrefix(strings.Split(got, "***")[0], "Authorization: Basic "))
				if strings.Contains(string(decoded), secret[:8]) {
					t.Errorf("shift %d: the part before the mask still decodes to the secret", shift)
				}
			}
		}
	}
}

func TestRedactorLeavesShortAndBooleans(t *testing.T) {
	m := NewMasker("abc", "true", "False", "", "okay")
	got := redactAll(t, m, "abc is true, False is okay")
	if got != "abc is true, False is ***" {
		t.Errorf("got %q", got)
	}
}

func TestRedactorHoldsOnlyPossibleStarts(t *testing.T) {
	var out bytes.Buffer
	r := NewRedactor(&out, "secretvalue")
	write := func(s string) {
		t.Helper()
		if _, err := r.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	write("hello sec")
	if out.String() != "hello " {
		t.Fatalf("after a possible start, wrote %q, want %q", out.String(), "hello ")
	}
	write("re")
	if out.String() != "hello " {
		t.Fatalf("wrote %q while the secret could still complete", out.String())
	}
	write("x!")
	if out.String() != "hello secrex!" {
		t.Fatalf("once the secret cannot complete, wrote %q", out.String())
	}
	write("secretval")
	write("ue done\n")
	if out.String() != "hello secrex!*** done\n" {
		t.Fatalf("a secret across writes: %q", out.String())
	}
	write("and secr")
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "hello secrex!*** done\nand secr" {
		t.Fatalf("Flush did not release the held bytes: %q", out.String())
	}
}

// TestRedactorPastTheHead: a Masker keeps the first headLen bytes of a
// pattern and a fingerprint of the rest; text that shares a secret's first
// headLen bytes, or all but its last, is not masked, the secret is, and a
// write that ends inside such text holds it until the text is as long as
// the secret (a departure past the head is not seen before).
func TestRedactorPastTheHead(t *testing.T) {
	const secret = "0123456789abcdef-the-rest-of-a-long-secret"
	m := NewMasker(secret)
	for in, want := range map[string]string{
		"x " + secret + " y":                    "x *** y",
		"x " + secret[:len(secret)-1] + "! y":   "x " + secret[:len(secret)-1] + "! y",
		"x " + secret[:headLen] + "-other-tail": "x " + secret[:headLen] + "-other-tail",
		"x " + secret[:headLen+1] + secret:      "x " + secret[:headLen+1] + "***",
	} {
		if got := redactAll(t, m, in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
		rng := rand.New(rand.NewPCG(3, uint64(len(in))))
		for range 50 {
			if got := redactChunked(t, m, in, rng); got != want {
				t.Fatalf("%q in chunks: got %q, want %q", in, got, want)
			}
		}
	}
	var out bytes.Buffer
	r := m.Redactor(&out)
	r.Write([]byte("held " + secret[:headLen+4]))
	if out.String() != "held " {
		t.Errorf("wrote %q of a write that ends inside a secret's first bytes", out.String())
	}
	tail := "?" + strings.Repeat(".", len(secret))
	r.Write([]byte(tail))
	if want := "held " + secret[:headLen+4] + tail; out.String() != want {
		t.Errorf("wrote %q once the secret could not complete, want %q", out.String(), want)
	}
}

func TestRedactorOverlaps(t *testing.T) {
	m := NewMasker("abcdef", "defghi", "abcdefXYZ")
	tests := map[string]string{
		"abcdefghi!":    "***!",
		"xxabcdefXYZyy": "xx***yy",
		"abcdefXY":      "***XY",
		"defghiabcdef":  "******", // adjacent, not overlapping: two masks
	}
	for in, want := range tests {
		if got := redactAll(t, m, in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
		rng := rand.New(rand.NewPCG(1, uint64(len(in))))
		for range 50 {
			if got := redactChunked(t, m, in, rng); got != want {
				t.Fatalf("%q in chunks: got %q, want %q", in, got, want)
			}
		}
	}
}

// naiveRedact masks forms in text as a matcher does, by looking up the
// text of every form's length at every position: the longest form that
// starts at the leftmost position, extended over forms that start inside
// it and end later.
func naiveRedact(forms []string, text string) string {
	set, lens := map[string]bool{}, map[int]bool{}
	for _, f := range forms {
		set[f], lens[len(f)] = true, true
	}
	longest := func(i int) int {
		n := 0
		for size := range lens {
			if size > n && i+size <= len(text) && set[text[i:i+size]] {
				n = size
			}
		}
		return n
	}
	var out strings.Builder
	for i := 0; i < len(text); {
		n := longest(i)
		if n == 0 {
			out.WriteByte(text[i])
			i++
			continue
		}
		end := i + n
		for j := i + 1; j < end; j++ {
			end = max(end, j+longest(j))
		}
		out.WriteString(mask)
		i = end
	}
	return out.String()
}

// redactLikeNaive fails unless m redacts text, in one write and in random
// chunks, as naiveRedact does with forms; what names the case.
func redactLikeNaive(t *testing.T, m *Masker, forms []string, text string, rng *rand.Rand, what string) {
	t.Helper()
	want := naiveRedact(forms, text)
	if got := redactAll(t, m, text); got != want {
		t.Fatalf("%s: got\n%q\nwant\n%q", what, got, want)
	}
	if got := redactChunked(t, m, text, rng); got != want {
		t.Fatalf("%s, in chunks: got\n%q\nwant\n%q", what, got, want)
	}
}

// TestRedactorSharedHeads: secrets that share their first bytes, within
// and past the head a matcher keeps, of many lengths, some the start of
// others, in text made of their forms, of the forms cut short and of the
// bytes they share, are masked as by comparing every form at every
// position, whole and in chunks. Where many share a head, the matcher
// checks them by length and fingerprint.
func TestRedactorSharedHeads(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for _, shared := range []int{4, 12, 15, 16, 17, 24, 40, 190} {
		for _, count := range []int{3, longestScan + 1, 120, parallelSecrets + 50} {
			if count > parallelSecrets && shared != 24 {
				continue // formed in two halves: once is enough
			}
			prefix := strings.Repeat("A", shared/2) + strings.Repeat("b9", shared/4) + strings.Repeat("A", shared-shared/2-2*(shared/4))
			secrets := make([]string, count)
			for i := range secrets {
				digits := strconv.Itoa(rng.IntN(count * 3))
				secrets[i] = prefix + digits[:rng.IntN(len(digits)+1)] + strings.Repeat("A", rng.IntN(3))
				switch {
				case i%7 == 0 && i > 0:
					secrets[i] = secrets[i-1] + "-x" // the start of another
				case i%11 == 0:
					secrets[i] = []string{"", "abc", "true"}[i%3] // no form at all
				}
			}
			forms := maskedForms(secrets)
			var text strings.Builder
			for range 400 {
				f := forms[rng.IntN(len(forms))]
				switch rng.IntN(4) {
				case 0:
					text.WriteString(f)
				case 1:
					text.WriteString(f[:rng.IntN(len(f))])
				case 2:
					text.WriteString(prefix[:rng.IntN(len(prefix)+1)])
				default:
					text.WriteString([]string{"A", "AA", "b", "9", "\n", "-x", "7"}[rng.IntN(7)])
				}
			}
			redactLikeNaive(t, NewMasker(secrets...), forms, text.String(), rng, fmt.Sprintf("%d secrets sharing %d bytes", count, shared))
		}
	}
}

// TestRedactorRandomSharedStarts: random secrets over three letters, of
// lengths around the head's and the fingerprint's word boundaries, sharing
// random starts, some the start of others, in text made of their forms and
// pieces of them, are masked as by naiveRedact, whole and in chunks.
func TestRedactorRandomSharedStarts(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	lens := []int{4, 8, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40, 47, 48, 49, 64, 65}
	for round := range 150 {
		base := make([]byte, 70)
		for i := range base {
			base[i] = "Ab9"[rng.IntN(3)]
		}
		shared := rng.IntN(50)
		secrets := make([]string, []int{1, 3, longestScan + 2, 100}[rng.IntN(4)])
		for i := range secrets {
			size := lens[rng.IntN(len(lens))]
			s := []byte(string(base[:min(shared, size)]))
			for len(s) < size {
				s = append(s, "Ab9-x"[rng.IntN(5)])
			}
			if i > 0 && rng.IntN(5) == 0 {
				s = append([]byte(secrets[rng.IntN(i)]), s[:rng.IntN(8)]...) // another's start
			}
			secrets[i] = string(s)
		}
		forms := maskedForms(secrets)
		var text strings.Builder
		for range 60 {
			switch f := forms[rng.IntN(len(forms))]; rng.IntN(3) {
			case 0:
				text.WriteString(f)
			case 1:
				text.WriteString(f[:rng.IntN(len(f))])
			default:
				text.Write(base[:rng.IntN(len(base))])
			}
		}
		redactLikeNaive(t, NewMasker(secrets...), forms, text.String(), rng, fmt.Sprintf("round %d, secrets %q", round, secrets))
	}
}

// sharedStartSecrets returns 33 to 515 random secrets with one start: nested
// chains (each the start of the next), duplicates, starts of others,
// multi-line values, values with no form, over alphabets with NUL and 0xff.
func sharedStartSecrets(rng *rand.Rand) []string {
	alpha := [][]byte{[]byte("ab"), []byte("Ab9-x"), {0, 0xff, 'a'}, []byte("aA0+/=_\n %")}[rng.IntN(4)]
	rb := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[rng.IntN(len(alpha))]
		}
		return b
	}
	head := rb(16 + rng.IntN(40))
	if rng.IntN(3) == 0 {
		for i := range head[:16] {
			head[i] = "ABCDEFGHIJKLMNOP"[i]
		}
	}
	chain := rb(80)
	count := []int{33, 40, 70, 200, parallelSecrets + 3}[rng.IntN(5)]
	secrets := make([]string, count)
	for i := range secrets {
		var s []byte
		switch rng.IntN(9) {
		case 0, 1: // nested chain
			s = append(append([]byte{}, head[:16]...), chain[:rng.IntN(len(chain))]...)
		case 2:
			s = append(append([]byte{}, head[:rng.IntN(len(head))]...), rb(rng.IntN(20))...)
		case 3:
			if i > 0 {
				s = []byte(secrets[rng.IntN(i)]) // duplicate
				break
			}
			fallthrough
		case 4:
			s = []byte([]string{"", "true", "abc", " x ", "FALSE"}[rng.IntN(5)])
		case 5:
			if i > 0 {
				o := secrets[rng.IntN(i)]
				s = []byte(o[:rng.IntN(len(o)+1)]) // a prefix of another
				s = append(s, rb(rng.IntN(3))...)
				break
			}
			fallthrough
		case 6:
			s = append(append(append([]byte{}, head[:16]...), '\n'), rb(5+rng.IntN(20))...) // multi-line
		default:
			s = append(append([]byte{}, head...), rb(rng.IntN(40))...)
		}
		secrets[i] = string(s)
	}
	return secrets
}

// sharedStartText returns text of the forms, whole and cut, of the secrets
// cut, and of single bytes.
func sharedStartText(rng *rand.Rand, forms, secrets []string) string {
	var text strings.Builder
	for range 40 {
		f := forms[rng.IntN(len(forms))]
		switch rng.IntN(6) {
		case 0, 1:
			text.WriteString(f)
		case 2:
			text.WriteString(f[:rng.IntN(len(f))])
		case 3:
			s := secrets[rng.IntN(len(secrets))]
			text.WriteString(s[:rng.IntN(len(s)+1)])
		case 4:
			text.WriteString(f)
			text.WriteString(f[:rng.IntN(len(f))])
		default:
			text.WriteByte([]byte{0, 0xff, 'a', 'A', ' ', '\n'}[rng.IntN(6)])
		}
	}
	return text.String()
}

// TestRedactorSharedStartsDifferential: the matcher against naiveRedact
// on sharedStartSecrets, whole and in chunks, the text also cut short
// inside a head or a pattern. (From a red-team pass, helper-31.)
func TestRedactorSharedStartsDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 22))
	for round := range 12 {
		secrets := sharedStartSecrets(rng)
		forms := maskedForms(secrets)
		if len(forms) == 0 {
			continue
		}
		m := NewMasker(secrets...)
		for range 4 {
			text := sharedStartText(rng, forms, secrets)
			// and the text cut short
			for _, cut := range []int{len(text), len(text) - 1 - rng.IntN(min(len(text), 40))} {
				redactLikeNaive(t, m, forms, text[:max(cut, 0)], rng, fmt.Sprintf("round %d, secrets %q", round, secrets))
			}
		}
	}
}

// TestBigRunChainsAndCopies: a secret stored under 1,000 names is one
// pattern of its bigRun, and a chain of 1,000 secrets each the start of the
// next has jumps up the chain of every power of two it needs; text that
// goes on as the chain does for k bytes is masked up to the k-th.
func TestBigRunChainsAndCopies(t *testing.T) {
	const head = "ghp_0123456789ab"
	copies := slices.Repeat([]string{head + "cdefghijklmnopqrstuvwxyz"}, 1000)
	m := NewMasker(copies...).matcher()
	r := m.runs[[headLen]byte([]byte(head))]
	if r == nil || len(r.ends) != 1 || len(r.up) != 1 {
		t.Fatalf("1,000 copies of a secret: %+v, want one pattern", r)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	chain := make([]byte, 1000)
	for i := range chain {
		chain[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rng.IntN(36)]
	}
	secrets := make([]string, len(chain))
	for k := range secrets {
		secrets[k] = head + string(chain[:k+1])
	}
	masker := NewMasker(secrets...)
	r = masker.matcher().runs[[headLen]byte([]byte(head))]
	if r == nil || len(r.up) != bits.Len(999) {
		t.Fatalf("a chain of 1,000: %d levels of jumps, want %d", len(r.up), bits.Len(999))
	}
	for j := 1; j < len(r.up); j++ {
		for i := range r.up[j] {
			if a := r.up[j-1][i]; (a < 0 && r.up[j][i] != -1) || (a >= 0 && r.up[j][i] != r.up[j-1][a]) {
				t.Fatalf("up[%d][%d] = %d, not two steps of up[%d]", j, i, r.up[j][i], j-1)
			}
		}
	}
	for _, k := range []int{0, 1, 7, 500, 999, 1000} {
		text := head + string(chain[:k]) + "~"
		want := "***~"
		if k == 0 {
			want = text
		}
		if got := redactAll(t, masker, text); got != want {
			t.Errorf("the chain's first %d bytes and ~: %q, want %q", k, got, want)
		}
	}
}

// TestRedactorRepeatedWords: text that shares a secret's head and length,
// and differs from it in a high bit of each of its repeated words, is not
// masked. A fingerprint that summed the words themselves as a polynomial
// took it for the secret under every key: (mul^8-1)/(mul-1) is a multiple
// of 8 for every odd mul, and the difference of each word 2^61.
func TestRedactorRepeatedWords(t *testing.T) {
	const head = "0123456789abcdef"
	secret := head + strings.Repeat("AAAAAAAA", 8)
	text := "x " + head + strings.Repeat("AAAAAAAa", 8) + " y"
	for range 100 {
		m := NewMasker(secret)
		if got := redactAll(t, m, text); got != text {
			t.Fatalf("%q became %q", text, got)
		}
		if got := redactAll(t, m, "x "+secret+" y"); got != "x *** y" {
			t.Fatalf("the secret: %q", got)
		}
	}
}

// TestFingerprintAlgebraicCollisions: a fingerprint that summed the words
// themselves as a polynomial modulo 2^64 in an odd multiplier let a
// difference confined to the top bits of the words, a multiple of
// (x^a)(x^k - 1)..., vanish for every odd multiplier: text that differs
// from a secret's form in a few bytes was masked whatever the key. Each
// "other" below shares the secret's 16-byte head and length and is not
// any form of it. (Found by a red-team pass.)
func TestFingerprintAlgebraicCollisions(t *testing.T) {
	cases := []struct{ name, secret, other string }{
		// Two letters' case swapped, at bytes 23 and 39 (the last byte of
		// tail words 0 and 2): a difference of 2^61*(x^2-1)*x^e, and x^2-1
		// is a multiple of 8 for every odd x.
		{"two case flips 16 bytes apart",
			"sk_live_4eC39HqLyjWDarjAtT1zdp7bc9tKQ2Bc8hVUzwYD",
			"sk_live_4eC39HqLyjWDarjatT1zdp7bc9tKQ2BC8hVUzwYD"},
		// Thue-Morse signs over four words: (x-1)(x^2-1) has at least 4
		// factors of 2, times 2^60 (a change of 0x10 in the top byte).
		{"four top bytes +-0x10",
			"HEADHEADHEADHEADxxxxxxxPxxxxxxxPxxxxxxxPxxxxxxxP",
			"HEADHEADHEADHEADxxxxxxx`xxxxxxx@xxxxxxx@xxxxxxx`"},
		// The top bit of the last byte of two adjacent words: 2^63*x*(x+1).
		{"two top bits 8 bytes apart",
			"0123456789abcdef-tail-xA-tail-yB-and-more",
			"0123456789abcdef-tail-x\xc1-tail-y\xc2-and-more"},
	}
	for _, c := range cases {
		if len(c.secret) != len(c.other) || c.secret[:16] != c.other[:16] {
			t.Fatalf("%s: bad case", c.name)
		}
		text := "deploying with " + c.other + " now\n"
		masked := 0
		for range 32 { // 32 Maskers, 32 random keys
			m := NewMasker(c.secret)
			if got := redactAll(t, m, "x "+c.secret+" x"); got != "x *** x" {
				t.Fatalf("%s: the secret itself gave %q", c.name, got)
			}
			if got := redactAll(t, m, text); got != text {
				masked++
			}
		}
		if masked > 0 {
			t.Errorf("%s: %q, not a form of the secret, was masked by %d of 32 Maskers (want 0): the fingerprint collides for every key", c.name, c.other, masked)
		}
	}
}

// TestFingerprintTopBytes: texts that differ from a form only in the last
// byte of two 8-byte words collided for about 1 key in 100, not 1 in 2^32,
// under a fingerprint that summed the words as a polynomial. The pair is
// from a random differential run (a base64 form against other base64 in
// the output); 4,096 seeds should give no collision.
func TestFingerprintTopBytes(t *testing.T) {
	const form = "OUFBOUFBQUE5OWJBOUE5QTlBYmI9K2IgPSsKCi9BICs9QTkvLSsKLyAKLSB4CkE="
	const text = "OUFBOUFBQUE5OWJBOUE5QTlBYmI9K2IgPSsKCi9BICs9QTkvLSsKLyAJLSB4CkEv"
	collide := 0
	for range 4096 {
		seed := maphash.MakeSeed()
		if fingerprint(seed, []byte(form)) == fingerprint(seed, []byte(text)) {
			collide++
		}
	}
	if collide > 0 {
		t.Errorf("%d of 4096 seeds give %q the fingerprint of %q (a 32-bit fingerprint: want 0)", collide, text, form)
	}
}

// TestRedactorChunking: for random secrets in random text, written in random
// chunks, the output is the same as in one write, holds no secret, and text
// without secrets passes through unchanged.
func TestRedactorChunking(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	alphabet := "abcdefgh ABC=+/\n"
	randString := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for round := range 300 {
		secrets := []string{randString(4 + rng.IntN(8)), randString(4 + rng.IntN(20)), strings.Repeat("ab", 3)}
		m := NewMasker(secrets...)
		var text strings.Builder
		for range 20 {
			text.WriteString(randString(rng.IntN(12)))
			text.WriteString(secrets[rng.IntN(len(secrets))])
		}
		whole := redactAll(t, m, text.String())
		for _, s := range secrets {
			if IsMaskable(s) && strings.Contains(whole, s) {
				t.Fatalf("round %d: output holds secret %q", round, s)
			}
		}
		if chunked := redactChunked(t, m, text.String(), rng); chunked != whole {
			t.Fatalf("round %d: chunked output differs\n got %q\nwant %q", round, chunked, whole)
		}
		plain := strings.Repeat("z", rng.IntN(100)) + "0123456789"
		if got := redactChunked(t, m, plain, rng); got != plain {
			t.Fatalf("text without secrets changed: %q", got)
		}
	}
}

func TestRedactorConcurrentWrites(t *testing.T) {
	var out safeBuffer
	r := NewRedactor(&out, "concurrent-secret")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				fmt.Fprintf(r, "goroutine %d line %d concurrent-secret\n", g, i)
			}
		}()
	}
	wg.Wait()
	r.Close()
	if strings.Contains(out.String(), "concurrent-secret") {
		t.Error("a secret written whole by one call leaked")
	}
	if n := strings.Count(out.String(), "***"); n != 800 {
		t.Errorf("%d masks, want 800", n)
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FuzzRedactor: for any secrets and text, in any chunking, the output holds
// none of the secrets, and equals the output of one write.
func FuzzRedactor(f *testing.F) {
	f.Add("secretvalue", "other-secret", "text secretvalue more other-secret end", uint64(1))
	f.Add("abcd", "bcde", "abcde", uint64(2))
	f.Add("aaaa", "aaab", "aaaaaaab", uint64(3))
	f.Fuzz(func(t *testing.T, s1, s2, text string, seed uint64) {
		if strings.Contains(s1+s2, "*") {
			return // a secret made of stars could be formed by masking
		}
		m := NewMasker(s1, s2)
		text = s1 + text + s2 + text
		whole := redactAll(t, m, text)
		for _, s := range []string{s1, s2} {
			if IsMaskable(s) && strings.Contains(whole, s) {
				t.Fatalf("output %q holds secret %q", whole, s)
			}
		}
		if chunked := redactChunked(t, m, text, rand.New(rand.NewPCG(seed, seed))); chunked != whole {
			t.Fatalf("chunked output %q, whole %q", chunked, whole)
		}
	})
}

func TestRedactorLeavesCallersBuffer(t *testing.T) {
	var out bytes.Buffer
	r := NewRedactor(&out, "secret-value")
	for _, text := range []string{"plain text, nothing to mask\n", "a secret-value here\n"} {
		p := []byte(text)
		if _, err := r.Write(p); err != nil {
			t.Fatal(err)
		}
		if string(p) != text {
			t.Errorf("Write changed the caller's buffer to %q", p)
		}
	}
	r.Close()
	if out.String() != "plain text, nothing to mask\na *** here\n" {
		t.Errorf("got %q", out.String())
	}
}

// maskedForms returns every form a Masker of secrets masks.
func maskedForms(secrets []string) []string {
	var fs formSet
	for _, s := range secrets {
		fs.addSecret(s)
	}
	forms := make([]string, len(fs.pats))
	for i, p := range fs.pats {
		forms[i] = string(fs.text[p.off : p.off+p.n])
	}
	return forms
}

// TestCompileInHalves: a Masker of enough secrets to be formed on two
// goroutines has the patterns, in the order, of one formed on one, also
// when a half outgrows the room made for it (values of control bytes,
// whose escaped forms are many times longer, or a value of many lines,
// each masked alone), and masks every secret.
func TestCompileInHalves(t *testing.T) {
	var lines strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&lines, "line %d of a certificate\n", i)
	}
	for _, heavy := range []int{-1, 10, parallelSecrets + 10, -10, -parallelSecrets - 10} {
		secrets := make([]string, parallelSecrets+100)
		for i := range secrets {
			secrets[i] = fmt.Sprintf("secret-%05d-value", i)
			switch {
			case i == heavy:
				secrets[i] = strings.Repeat("\x01", 100_000)
			case i == -heavy:
				secrets[i] = lines.String()
			}
		}
		fs := formSet{}
		fs.addSecrets(secrets)
		m := compile(secrets)
		if m.len() != len(fs.pats) {
			t.Fatalf("heavy %d: %d patterns, want %d", heavy, m.len(), len(fs.pats))
		}
		for i, p := range fs.pats {
			form := fs.text[p.off : p.off+p.n]
			var sum uint32
			if len(form) > headLen {
				sum = fingerprint(m.seed, form)
			}
			if got, want := string(m.head(uint32(i))[:min(m.size(uint32(i)), headLen)]), string(form[:min(len(form), headLen)]); got != want || m.size(uint32(i)) != len(form) || m.sum(uint32(i)) != sum {
				t.Fatalf("heavy %d: pattern %d starts %q, of %d bytes, fingerprint %x; want %q, %d, %x", heavy, i, got, m.size(uint32(i)), m.sum(uint32(i)), want, len(form), sum)
			}
		}
		masker := NewMasker(secrets...)
		for _, i := range []int{0, len(secrets)/2 - 1, len(secrets) / 2, len(secrets) - 1} {
			if got := redactAll(t, masker, "before "+secrets[i]+" after"); got != "before *** after" {
				t.Errorf("heavy %d: secret %d: %q", heavy, i, got)
			}
		}
	}
}

func TestCommonPrefix(t *testing.T) {
	a := []byte("0123456789abcdefghijklmnopqrstuv")
	for n := range len(a) + 1 {
		for diff := range n + 1 {
			b := slices.Clone(a[:n])
			if diff < n {
				b[diff] ^= 0x80
			}
			if got := commonPrefix(a, b); got != diff {
				t.Errorf("%q and %q: %d, want %d", a, b, got, diff)
			}
		}
	}
}
