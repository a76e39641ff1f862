package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/credvault/vault/internal/benchdata"
	"github.com/fernet/fernet-go"
)

// The benchmarks of Open, Get, Flatten, Seal and Rotate at the three fixture
// sizes (Open also on the compact vault of many small objects), and of
// Open's stages, so that a regression points at its stage:
//
//	go test -run=NONE -bench=. -benchmem .
//
// bench/compare.sh sets these figures beside the seed's Python.

type fixture struct {
	path  string
	token []byte
	plain []byte
	key   *Key
}

var fixtures sync.Map // size -> *fixture, sealed once; path unset

// getFixture returns the fixture of size, its vault written in b's temporary
// directory, which the testing package removes when b ends.
func getFixture(b *testing.B, size string) *fixture {
	cached, ok := fixtures.Load(size)
	if !ok {
		cached = sealFixture(b, size)
		fixtures.Store(size, cached)
	}
	f := *cached.(*fixture)
	f.path = filepath.Join(b.TempDir(), size+".enc")
	if err := os.WriteFile(f.path, f.token, 0o600); err != nil {
		b.Fatal(err)
	}
	return &f
}

func sealFixture(b *testing.B, size string) *fixture {
	key, err := ParseKey(benchdata.Key)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), size+".enc")
	doc := benchdata.Document(size)
	if err := Seal(path, doc, key); err != nil {
		b.Fatal(err)
	}
	token, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	plain, _ := sealDocument(doc)
	return &fixture{token: token, plain: plain, key: key}
}

// forSizes runs fn on each fixture size, and on the extra fixtures named.
func forSizes(b *testing.B, fn func(b *testing.B, f *fixture, size string), extra ...string) {
	for _, size := range append(benchdata.Sizes[:len(benchdata.Sizes):len(benchdata.Sizes)], extra...) {
		b.Run(size, func(b *testing.B) { fn(b, getFixture(b, size), size) })
	}
}

func BenchmarkOpen(b *testing.B) {
	forSizes(b, func(b *testing.B, f *fixture, _ string) {
		b.SetBytes(int64(len(f.token)))
		b.ReportAllocs()
		for range b.N {
			if _, err := Open(f.path, []*Key{f.key}); err != nil {
				b.Fatal(err)
			}
		}
	}, benchdata.Compact)
}

func BenchmarkGet(b *testing.B) {
	forSizes(b, func(b *testing.B, f *fixture, size string) {
		v, err := Open(f.path, []*Key{f.key})
		if err != nil {
			b.Fatal(err)
		}
		path := benchdata.GetPath(size)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := v.Get(path); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFlatten(b *testing.B) {
	forSizes(b, func(b *testing.B, f *fixture, _ string) {
		v, err := Open(f.path, []*Key{f.key})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := v.Flatten("APP_"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	forSizes(b, func(b *testing.B, f *fixture, size string) {
		doc := benchdata.Document(size)
		path := filepath.Join(b.TempDir(), "v.enc")
		b.SetBytes(int64(len(f.plain)))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := Seal(path, doc, f.key); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRotate(b *testing.B) {
	forSizes(b, func(b *testing.B, f *fixture, _ string) {
		path := filepath.Join(b.TempDir(), "v.enc")
		if err := os.WriteFile(path, f.token, 0o600); err != nil {
			b.Fatal(err)
		}
		ring := []*Key{f.key, GenerateKey()}
		b.SetBytes(int64(len(f.token)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if err := Rotate(path, ring, ring[(i+1)%2]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOpenStages measures each stage of Open on the 100k fixture:
// reading the file, base64, HMAC and AES-CBC (fernet-go's VerifyAndDecrypt
// does all three), and the JSON.
func BenchmarkOpenStages(b *testing.B) {
	f := getFixture(b, "100k")
	b.Run("read", func(b *testing.B) {
		b.SetBytes(int64(len(f.token)))
		for range b.N {
			readVault(f.path)
		}
	})
	b.Run("base64", func(b *testing.B) {
		b.SetBytes(int64(len(f.token)))
		dst := make([]byte, len(f.token))
		for range b.N {
			base64.URLEncoding.Decode(dst, f.token)
		}
	})
	b.Run("fernet-go-verify-decrypt", func(b *testing.B) {
		b.SetBytes(int64(len(f.token)))
		keys := []*fernet.Key{f.key.fernetKey()}
		for range b.N {
			fernet.VerifyAndDecrypt(f.token, 0, keys)
		}
	})
	buf := make([]byte, len(f.token))
	b.Run("decode-in-place", func(b *testing.B) {
		b.SetBytes(int64(len(f.token)))
		for range b.N {
			copy(buf, f.token)
			decodeInPlace(buf)
		}
	})
	b.Run("open-token", func(b *testing.B) {
		b.SetBytes(int64(len(f.token)))
		for range b.N {
			copy(buf, f.token)
			if _, _, _, err := openToken(buf, []*Key{f.key}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("copy", func(b *testing.B) {
		b.SetBytes(int64(len(f.token)))
		for range b.N {
			copy(buf, f.token)
		}
	})
	b.Run("json", func(b *testing.B) {
		b.SetBytes(int64(len(f.plain)))
		b.ReportAllocs()
		for range b.N {
			if _, err := decodeDocument(bytes.Clone(f.plain)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(f.plain)))
		b.ReportAllocs()
		for range b.N {
			d := json.NewDecoder(bytes.NewReader(f.plain))
			d.UseNumber()
			var doc map[string]any
			d.Decode(&doc)
		}
	})
}

// BenchmarkRun runs a command through Vault.Run with the values of the
// exec fixtures (1,000 and 10,000 values of 32 bytes) in its environment:
// `true`, which prints nothing, so that no Masker is compiled, and
// `echo x`, whose output compiles it. Its allocations are the library's
// part of `credvault exec`.
func BenchmarkRun(b *testing.B) {
	if _, err := exec.LookPath("echo"); err != nil {
		b.Skip("no echo in PATH")
	}
	for _, size := range []string{"exec1k", "exec10k"} {
		f := getFixture(b, size)
		v, err := Open(f.path, []*Key{f.key})
		if err != nil {
			b.Fatal(err)
		}
		for _, args := range [][]string{{"true"}, {"echo", "x"}} {
			b.Run(size+"/"+strings.Join(args, "-"), func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					if err := v.Run(context.Background(), &Command{Args: args, Stdout: io.Discard}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
