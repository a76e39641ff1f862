// Package benchdata makes the deterministic documents that credvault's
// benchmarks and bench/compare.sh measure: the seed blog post's example (7
// values), 1k (1,000 values, 3 levels, ~40-byte values) and 100k (100,000
// values, 3 levels, ~5.5 MB of JSON); for exec, exec1k, exec10k and exec50k
// (that many values of 32 bytes, 2 levels); and compact100k (100,000 values
// of ~40 bytes in small objects of 4, as a vault of many services' host,
// user, password and token reads). They are generated, not committed.
package benchdata

import (
	"fmt"
	"math/rand/v2"
)

// Key is the throwaway key every fixture is sealed with: 32 bytes of 0x42 in
// Python's form. It protects nothing.
const Key = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="

// Sizes are the fixture names, smallest first.
var Sizes = []string{"seed", "1k", "100k"}

// ExecSizes are the fixtures for exec, and Compact the compact vault of
// many small objects; All is every fixture.
var (
	ExecSizes = []string{"exec1k", "exec10k", "exec50k"}
	Compact   = "compact100k"
	All       = append(append(append([]string(nil), Sizes...), ExecSizes...), Compact)
)

// Document returns the fixture of the given size, or nil for an unknown one.
// Every call builds a fresh map.
func Document(size string) map[string]any {
	switch size {
	case "seed":
		return map[string]any{
			"database": map[string]any{"host": "db.example.com", "port": 5432, "username": "app_user", "password": "s3cret!P@ss"},
			"api_keys": map[string]any{"stripe": "sk_live_xxxxx", "aws": "AKIAIOSFODNN7EXAMPLE"},
			"ssh":      map[string]any{"private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpA..."},
		}
	case "1k":
		return tree(10, 10, 10)
	case "100k":
		return tree(100, 10, 100)
	case "exec1k":
		return flatTree(10, 100)
	case "exec10k":
		return flatTree(100, 100)
	case "exec50k":
		return flatTree(500, 100)
	case "compact100k":
		return services(25000)
	}
	return nil
}

// GetPath returns a credential path that exists in the fixture of size.
func GetPath(size string) string {
	switch size {
	case "seed":
		return "database.password"
	case "1k":
		return "service007.group3.secret004"
	case "exec1k", "exec10k", "exec50k":
		return "service007.secret042"
	case "compact100k":
		return "service07000.password"
	}
	return "service007.group3.secret042"
}

// tree builds services × groups × secrets values of about 40 bytes.
func tree(services, groups, secrets int) map[string]any {
	rng := rand.New(rand.NewPCG(2026, 11))
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_.!@"
	doc := make(map[string]any, services)
	for s := range services {
		svc := make(map[string]any, groups)
		for g := range groups {
			grp := make(map[string]any, secrets)
			for k := range secrets {
				v := make([]byte, 32+rng.IntN(16))
				for i := range v {
					v[i] = chars[rng.IntN(len(chars))]
				}
				grp[fmt.Sprintf("secret%03d", k)] = string(v)
			}
			svc[fmt.Sprintf("group%d", g)] = grp
		}
		doc[fmt.Sprintf("service%03d", s)] = svc
	}
	return doc
}

// flatTree builds services × secrets values of exactly 32 bytes.
func flatTree(services, secrets int) map[string]any {
	rng := rand.New(rand.NewPCG(2026, 12))
	doc := make(map[string]any, services)
	for s := range services {
		svc := make(map[string]any, secrets)
		for k := range secrets {
			svc[fmt.Sprintf("secret%03d", k)] = randomText(rng, 32)
		}
		doc[fmt.Sprintf("service%03d", s)] = svc
	}
	return doc
}

// services builds n objects of four values of 32 to 47 bytes.
func services(n int) map[string]any {
	rng := rand.New(rand.NewPCG(2026, 13))
	doc := make(map[string]any, n)
	for s := range n {
		svc := make(map[string]any, 4)
		for _, k := range []string{"host", "user", "password", "token"} {
			svc[k] = randomText(rng, 32+rng.IntN(16))
		}
		doc[fmt.Sprintf("service%05d", s)] = svc
	}
	return doc
}

func randomText(rng *rand.Rand, n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_.!@"
	v := make([]byte, n)
	for i := range v {
		v[i] = chars[rng.IntN(len(chars))]
	}
	return string(v)
}
