// Command inprocess times credvault's Open, Flatten and Seal in process on
// the benchmark vaults, for bench/compare.sh: the median of repeated runs,
// and the bytes allocated by one run, as one JSON object per line.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/credvault/vault"
	"github.com/credvault/vault/internal/benchdata"
)

type result struct {
	Op       string  `json:"op"`
	Size     string  `json:"size"`
	MedianMS float64 `json:"median_ms"`
	Runs     int     `json:"runs"`
	Bytes    uint64  `json:"alloc_bytes"`
	File     int64   `json:"file_bytes"`
}

func main() {
	dir := flag.String("dir", ".", "the directory holding the vaults written by bench/fixtures")
	scratch := flag.String("scratch", os.TempDir(), "where Seal writes (a tmpfs such as /dev/shm keeps fsync out of the figure)")
	flag.Parse()
	key, err := vault.ParseKey(benchdata.Key)
	if err != nil {
		fail(err)
	}
	keys := []*vault.Key{key}
	out := json.NewEncoder(os.Stdout)
	for _, size := range append(benchdata.Sizes, benchdata.Compact) {
		path := filepath.Join(*dir, size+".enc")
		info, err := os.Stat(path)
		if err != nil {
			fail(err)
		}
		sealPath := filepath.Join(*scratch, "credvault-bench-"+size+".enc")
		defer os.Remove(sealPath)
		report := func(op string, r result) {
			r.Op, r.Size, r.File = op, size, info.Size()
			out.Encode(r)
		}
		// Each operation runs with only what it needs alive, as in a
		// process that does one thing.
		report("open", measure(func() error { _, err := vault.Open(path, keys); return err }))
		v, err := vault.Open(path, keys)
		if err != nil {
			fail(err)
		}
		report("flatten", measure(func() error { _, err := v.Flatten("APP_"); return err }))
		v = nil
		doc := benchdata.Document(size)
		report("seal", measure(func() error { return vault.Seal(sealPath, doc, key) }))
	}
}

// measure runs fn at least 5 times and for at least a second, and returns
// the median duration and the bytes one run allocates. When a run allocates
// more than a megabyte, each run starts on a freshly collected heap (the
// collection is not timed), as it would in a process that does one thing;
// smaller runs would only be slowed by the cold caches.
func measure(fn func() error) result {
	if err := fn(); err != nil { // warm up
		fail(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := fn(); err != nil {
		fail(err)
	}
	runtime.ReadMemStats(&after)
	var times []time.Duration
	collect := after.TotalAlloc-before.TotalAlloc > 1<<20
	for start := time.Now(); len(times) < 5 || time.Since(start) < time.Second; {
		if collect {
			runtime.GC()
		}
		t := time.Now()
		if err := fn(); err != nil {
			fail(err)
		}
		times = append(times, time.Since(t))
	}
	slices.Sort(times)
	return result{MedianMS: float64(times[len(times)/2].Nanoseconds()) / 1e6, Runs: len(times), Bytes: after.TotalAlloc - before.TotalAlloc}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "inprocess:", err)
	os.Exit(1)
}
