package vault

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEncodeLargeDocument encodes documents above and below parallelMin,
// where encodeObject writes the members in two halves at once: the bytes
// must be encoding/json's (which sorts keys too), and of two bad values,
// one in each half, the error must name the first in key order, as a
// single pass would.
func TestEncodeLargeDocument(t *testing.T) {
	build := func(services int) map[string]any {
		doc := map[string]any{}
		for s := range services {
			svc := map[string]any{"port": 5432 + s, "tls": s%2 == 0}
			for k := range 40 {
				svc[fmt.Sprintf("secret%02d", k)] = strings.Repeat(string(rune('a'+k%26)), 100) + fmt.Sprint(s)
			}
			doc[fmt.Sprintf("service%04d", s)] = svc
		}
		return doc
	}
	for _, services := range []int{3, 400} {
		doc := build(services)
		want, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if services == 400 && len(want) < parallelMin {
			t.Fatalf("the large document is %d bytes, under parallelMin: it does not test the split", len(want))
		}
		got, err := sealDocument(doc)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%d services: the encoding differs from encoding/json's", services)
		}
		doc["service0001"].(map[string]any)["bad"] = "\xff"
		doc[fmt.Sprintf("service%04d", services-1)].(map[string]any)["bad"] = "\xfe"
		_, err = sealDocument(doc)
		if err == nil || !strings.Contains(err.Error(), `"service0001.bad"`) {
			t.Errorf("%d services, two bad values: got %v, want the error at service0001.bad", services, err)
		}
	}
}

type panickingValue struct{}

func (panickingValue) MarshalJSON() ([]byte, error) { panic("MarshalJSON panicked") }

// TestEncodePanicReachesCaller gives Seal a value whose MarshalJSON
// panics, in a small document and at the end of a large one (encoded on
// a goroutine of Seal's own): the panic must reach Seal's
// caller, who may recover it, as when the encoding ran on the caller's
// goroutine, rather than end the process; and nothing is written.
func TestEncodePanicReachesCaller(t *testing.T) {
	large := map[string]any{}
	for i := range 20000 {
		large[fmt.Sprintf("k%05d", i)] = strings.Repeat("v", 60)
	}
	large["zzz"] = panickingValue{}
	dir := t.TempDir()
	for name, doc := range map[string]map[string]any{"small": {"a": panickingValue{}}, "large": large} {
		for _, seal := range []func() error{
			func() error { _, err := sealDocument(doc); return err },
			func() error { return Seal(filepath.Join(dir, name), doc, GenerateKey()) },
		} {
			func() {
				defer func() {
					if r := recover(); fmt.Sprint(r) != "MarshalJSON panicked" {
						t.Errorf("%s document: recovered %v, want MarshalJSON's panic", name, r)
					}
				}()
				err := seal()
				t.Errorf("%s document: no panic, error %v", name, err)
			}()
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%d files left in the directory", len(ents))
	}
	// A bad value before the panicking one, in the first half: its error,
	// as a single pass would give, not the panic.
	large["k00001"] = "\xff"
	if _, err := sealDocument(large); err == nil || !strings.Contains(err.Error(), `"k00001"`) {
		t.Errorf("a bad value in the first half, a panic in the second: %v", err)
	}
}

// countingMarshaler counts its calls, as a type with a cache might: its
// MarshalJSON is not safe for concurrent use, which encoding/json does not
// ask of it.
type countingMarshaler struct{ calls int }

func (c *countingMarshaler) MarshalJSON() ([]byte, error) {
	c.calls++
	return []byte(`"x"`), nil
}

// TestEncodeSharedMarshaler seals a large document in which one value
// with its own MarshalJSON appears under many keys, in both halves: the
// caller's method must not be called from two goroutines at once (go test
// -race finds it when it is).
func TestEncodeSharedMarshaler(t *testing.T) {
	shared := &countingMarshaler{}
	doc := map[string]any{}
	for i := range 20000 {
		if i%50 == 0 {
			doc[fmt.Sprintf("k%05d", i)] = shared
		} else {
			doc[fmt.Sprintf("k%05d", i)] = strings.Repeat("v", 60)
		}
	}
	if _, err := sealDocument(doc); err != nil {
		t.Fatal(err)
	}
	if shared.calls != 400 {
		t.Errorf("MarshalJSON called %d times, want 400", shared.calls)
	}
}
