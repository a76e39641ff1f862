package vault

import (
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The redactor benchmarks: 64 MiB of log lines written in 32 KiB chunks
// (the size os/exec copies a child's output in), with 10, 100 and 1,000
// registered secrets (each with its encoded forms), secrets absent, rare
// (one per MiB) or frequent (one per KiB) in the text; and strings.Replacer over the
// same patterns, on the whole text at once, as the naive baseline. Then
// the redactor alone with 10,000 secrets, and on log lines full of hex
// (digests, as container and package tools print them), where the hex
// forms of the secrets could stop the scan.
//
//	go test -run=NONE -bench=Redact -benchtime=5x .

const benchLogSize = 64 << 20

var benchLogs sync.Map // "secrets/every" -> *benchLog

type benchLog struct {
	secrets []string
	text    []byte
}

func benchSecrets(n int) []string {
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_!@#%^&"
	secrets := make([]string, n)
	for i := range secrets {
		b := make([]byte, 16+rng.IntN(24))
		for j := range b {
			b[j] = chars[rng.IntN(len(chars))]
		}
		secrets[i] = string(b)
	}
	return secrets
}

// logText returns benchLogSize bytes of log lines with one of the secrets
// every `every` bytes or so (never, if every is 0).
func logText(secrets []string, every int) []byte {
	rng := rand.New(rand.NewPCG(1, uint64(every)))
	levels := []string{"INFO", "DEBUG", "WARN", "INFO", "INFO"}
	paths := []string{"/api/v1/users", "/api/v1/orders", "/healthz", "/api/v2/search?q=shoes&page=2", "/static/app.js"}
	var b strings.Builder
	b.Grow(benchLogSize + 1024)
	next := every
	for b.Len() < benchLogSize {
		fmt.Fprintf(&b, "2026-11-25T10:%02d:%02d.%03dZ %-5s [worker-%d] request id=%08x path=%s status=%d duration=%d.%dms bytes=%d",
			rng.IntN(60), rng.IntN(60), rng.IntN(1000), levels[rng.IntN(len(levels))], rng.IntN(32), rng.Uint32(),
			paths[rng.IntN(len(paths))], []int{200, 200, 201, 304, 404, 500}[rng.IntN(6)], rng.IntN(900), rng.IntN(10), rng.IntN(1<<16))
		if every > 0 && b.Len() >= next {
			fmt.Fprintf(&b, " token=%s", secrets[rng.IntN(len(secrets))])
			next += every
		}
		b.WriteByte('\n')
	}
	return []byte(b.String()[:benchLogSize])
}

// hexText returns benchLogSize bytes of log lines that each hold a
// digest of 64 hex digits.
func hexText() []byte {
	rng := rand.New(rand.NewPCG(2, 2))
	var b strings.Builder
	b.Grow(benchLogSize + 1024)
	for b.Len() < benchLogSize {
		fmt.Fprintf(&b, "2026-11-25T10:%02d:%02d Z pulling layer sha256:%016x%016x%016x%016x %d bytes\n",
			rng.IntN(60), rng.IntN(60), rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.IntN(1<<24))
	}
	return []byte(b.String()[:benchLogSize])
}

// getBenchLog returns the secrets and text of one benchmark: every is as
// for logText, or -1 for hexText.
func getBenchLog(n, every int) *benchLog {
	key := fmt.Sprintf("%d/%d", n, every)
	if l, ok := benchLogs.Load(key); ok {
		return l.(*benchLog)
	}
	secrets := benchSecrets(n)
	l := &benchLog{secrets: secrets}
	if every < 0 {
		l.text = hexText()
	} else {
		l.text = logText(secrets, every)
	}
	benchLogs.Store(key, l)
	return l
}

// redactLog writes text through a Redactor of m in 32 KiB chunks.
func redactLog(m *Masker, text []byte) {
	r := m.Redactor(io.Discard)
	for off := 0; off < len(text); off += 32 << 10 {
		r.Write(text[off:min(off+32<<10, len(text))])
	}
	r.Close()
}

func BenchmarkRedact(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		for _, freq := range []struct {
			name  string
			every int
		}{{"none", 0}, {"rare", 1 << 20}, {"frequent", 1 << 10}} {
			log := getBenchLog(n, freq.every)
			m := NewMasker(log.secrets...)
			b.Run(fmt.Sprintf("secrets=%d/%s/redactor", n, freq.name), func(b *testing.B) {
				b.SetBytes(int64(len(log.text)))
				for range b.N {
					redactLog(m, log.text)
				}
			})
			b.Run(fmt.Sprintf("secrets=%d/%s/strings.Replacer", n, freq.name), func(b *testing.B) {
				var pairs []string
				for _, form := range maskedForms(log.secrets) {
					pairs = append(pairs, form, mask)
				}
				rep := strings.NewReplacer(pairs...)
				text := string(log.text)
				b.SetBytes(int64(len(text)))
				b.ResetTimer()
				for range b.N {
					rep.WriteString(io.Discard, text)
				}
			})
		}
	}
	for _, n := range []int{10, 1000, 10000} {
		for _, freq := range []struct {
			name  string
			every int
		}{{"none", 0}, {"hex", -1}} {
			if n != 10000 && freq.every == 0 {
				continue // above, with strings.Replacer
			}
			log := getBenchLog(n, freq.every)
			m := NewMasker(log.secrets...)
			b.Run(fmt.Sprintf("secrets=%d/%s/redactor", n, freq.name), func(b *testing.B) {
				b.SetBytes(int64(len(log.text)))
				for range b.N {
					redactLog(m, log.text)
				}
			})
		}
	}
}

// BenchmarkNewMasker builds a Masker of 1,000 and 10,000 secrets of 16 to
// 40 bytes, and of one value of 3,000 lines (a certificate bundle, each
// line masked alone); bytes/op against the secrets' bytes (reported as
// secret-bytes) tells how compact it is.
func BenchmarkNewMasker(b *testing.B) {
	var lines strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&lines, "line %d of a certificate\n", i)
	}
	for _, tt := range []struct {
		name    string
		secrets []string
	}{
		{"secrets=1000", benchSecrets(1000)},
		{"secrets=10000", benchSecrets(10000)},
		{"lines=3000", []string{lines.String()}},
	} {
		name, secrets := tt.name, tt.secrets
		b.Run(name, func(b *testing.B) {
			size := 0
			for _, s := range secrets {
				size += len(s)
			}
			b.ReportAllocs()
			b.ReportMetric(float64(size), "secret-bytes")
			for range b.N {
				NewMasker(secrets...).matcher()
			}
		})
	}
}

// BenchmarkRedactSharedHeads: secrets that share their first bytes, and
// output full of those bytes, where every position starts like a secret:
//
//   - prefix=20: 2,000 values of 20 "A"s and ten digits, in lines of "A"s;
//     secrets=1 is one such value, for the cost of the shape itself;
//   - prefix=190: 2,000 values that share 190 bytes, in lines that repeat
//     them;
//   - jwt: 1,000 tokens with one JWT header and claims of many lengths, in
//     log lines that carry other such tokens;
//   - lengths=2000: values of 16 to 2,015 "A"s and an "x", in lines of "A"s;
//   - hex and base64: values of 8 "A"s and 0 to 299 "B"s, and of 12 to 311
//     "A"s, each with a number, in lines of the encoding of their shared
//     start, where the forms of many lengths share theirs;
//   - nested: 1,000 values each the start of the next, in lines of their
//     16-byte start and a byte after all of theirs; copies: one value
//     under 1,000 names, in lines of its first 20 bytes and such a byte;
//     abab: 1,000 nested values that start "abab...", in "abab..." text.
//
// The redactor's cost per byte should not grow with the number of secrets
// that share a start: it grows with how far the output goes on as they do.
func BenchmarkRedactSharedHeads(b *testing.B) {
	repeat := func(line string, size int) []byte {
		return []byte(strings.Repeat(line, size/len(line)+1)[:size])
	}
	rng := rand.New(rand.NewPCG(5, 5))
	header := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	token := func() string { // claims of 20 to 200 bytes, as real ones vary
		claims := make([]byte, 20+rng.IntN(180))
		for i := range claims {
			claims[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[rng.IntN(64)]
		}
		return header + "eyJzdWIiOiIx" + string(claims) + "." + fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
	}
	var prefix20, prefix190, jwt, lengths, hexes, b64s []string
	for i := range 2000 {
		prefix20 = append(prefix20, strings.Repeat("A", 20)+fmt.Sprintf("%010d", i))
		prefix190 = append(prefix190, strings.Repeat("0123456789abcdefghi", 10)+fmt.Sprintf("%010d", i))
		lengths = append(lengths, strings.Repeat("A", 16+i)+"x")
		hexes = append(hexes, strings.Repeat("A", 8)+strings.Repeat("B", i%300)+fmt.Sprint(i))
		b64s = append(b64s, strings.Repeat("A", 12+i%300)+fmt.Sprint(i))
	}
	for range 1000 {
		jwt = append(jwt, token())
	}
	var lines strings.Builder
	for lines.Len() < 4<<20 {
		fmt.Fprintf(&lines, "2026-11-25T10:00:00Z INFO request authorized bearer=%s\n", token())
	}
	var nested, abab []string
	for k := range 1000 {
		nested = append(nested, "ghp_0123456789ab"+strings.Repeat("cdefghijklmnopqrstuvwxyz0123456789", 30)[:k+1])
		abab = append(abab, strings.Repeat("ab", 8)+strings.Repeat("0918273645", 100)[:k+1])
	}
	copies := slices.Repeat([]string{"ghp_0123456789abcdefghijklmnopqrstuvwxyz"}, 1000)
	aLines := strings.Repeat("A", 199) + "\n"
	for _, shape := range []struct {
		name    string
		secrets []string
		text    []byte
	}{
		{"prefix=20", prefix20, repeat(aLines, 4<<20)},
		{"prefix=20/secrets=1", prefix20[:1], repeat(aLines, 4<<20)},
		{"prefix=190", prefix190, repeat(strings.Repeat("0123456789abcdefghi", 10)+"\n", 4<<20)},
		{"jwt", jwt, []byte(lines.String()[:4<<20])},
		{"lengths=2000", lengths, repeat(aLines, 1<<20)},
		{"hex", hexes, repeat(fmt.Sprintf("%x\n", strings.Repeat("A", 8)+strings.Repeat("B", 300)), 256<<10)},
		{"base64", b64s, repeat(base64.StdEncoding.EncodeToString([]byte(strings.Repeat("A", 300)))+"\n", 256<<10)},
		{"nested", nested, repeat("ghp_0123456789ab~ ", 1<<20)},
		{"copies", copies, repeat("ghp_0123456789abcdef~ ", 1<<20)},
		{"abab", abab, repeat("ab", 256<<10)},
	} {
		m := NewMasker(shape.secrets...)
		m.matcher()
		b.Run(shape.name, func(b *testing.B) {
			b.SetBytes(int64(len(shape.text)))
			for range b.N {
				redactLog(m, shape.text)
			}
		})
	}
}
