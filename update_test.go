package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUpdateSetKeepsOtherValuesExact(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	err := Update(path, []*Key{key}, func(v *Tx) error {
		if err := v.Set("database.password", "n3w-pass"); err != nil {
			return err
		}
		if err := v.Set("new.deeply.nested", "created"); err != nil {
			return err
		}
		if err := v.Set("hosts.1", "gamma.example"); err != nil {
			return err
		}
		return v.Set("database.replicas", 3)
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := Open(path, []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		"database.password":   "n3w-pass",
		"new.deeply.nested":   "created",
		"hosts.1":             "gamma.example",
		"database.replicas":   "3",
		"database.port":       "5432",
		"numbers.big":         "12345678901234567890",
		"numbers.float":       "1.0",
		"numbers.exp":         "1e400",
		"flags.none":          "",
		`servers.back\\slash`: "backslash-secret",
	} {
		if got, err := v.Get(p); err != nil || got != want {
			t.Errorf("Get(%q) = %q, %v; want %q", p, got, err, want)
		}
	}
}

func TestSetErrors(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealSeed(t, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	tx := &Tx{v: v}
	before, _ := v.RevealJSON()
	for path, says := range map[string]string{
		"database.port.x": `"database.port" is a number, which cannot hold keys`,
		"hosts.2":         `"hosts" is an array of 2 elements and arrays do not grow`,
		"hosts.x.y":       "arrays do not grow",
		"a..b":            "empty segment",
	} {
		err := tx.Set(path, "value-that-must-not-leak")
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("Set(%q): %v, want an error saying %q", path, err, says)
			continue
		}
		assertNoLeak(t, "error", err.Error(), "value-that-must-not-leak")
	}
	if err := tx.Set("x", "\xff"); err == nil {
		t.Error("Set accepted invalid UTF-8")
	}
	after, _ := v.RevealJSON()
	if !bytes.Equal(before, after) {
		t.Error("a failed Set changed the vault")
	}
}

func TestDelete(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	err := Update(path, []*Key{key}, func(v *Tx) error {
		if err := v.Delete("api_keys.stripe"); err != nil {
			return err
		}
		return v.Delete("ssh")
	})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := Open(path, []*Key{key})
	for _, p := range []string{"api_keys.stripe", "ssh.private_key"} {
		if _, err := v.Get(p); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) after Delete: %v", p, err)
		}
	}
	if got, _ := v.Get("api_keys.aws"); got != "AKIAIOSFODNN7EXAMPLE" {
		t.Errorf("a sibling was lost: %q", got)
	}
	tx := &Tx{v: v}
	if err := tx.Delete("api_keys.stripe"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: %v, want ErrNotFound", err)
	}
	if err := tx.Delete("hosts.0"); err == nil || !strings.Contains(err.Error(), "element of an array") {
		t.Errorf("deleting an array element: %v", err)
	}
}

func TestUpdateFailureLeavesVault(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	before, _ := os.ReadFile(path)
	refused := errors.New("refused by the caller")
	err := Update(path, []*Key{key}, func(v *Tx) error {
		v.Set("database.password", "half-done")
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("Update: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the vault changed")
	}
	if err := Update(path, []*Key{GenerateKey()}, func(*Tx) error { return nil }); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Update with a wrong key: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the vault changed")
	}
}

func TestUpdateSealsWithNewestKey(t *testing.T) {
	oldKey, newKey := GenerateKey(), GenerateKey()
	path := sealSeed(t, oldKey)
	if err := Update(path, []*Key{newKey, oldKey}, func(v *Tx) error { return v.Set("a", "b") }); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, []*Key{newKey}); err != nil {
		t.Errorf("after an update during a rotation window, the new key: %v", err)
	}
}

// TestConcurrentUpdates: 12 writers each add their own key at once; the lock
// serializes them, so every update is in the final vault.
func TestConcurrentUpdates(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	const writers = 12
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Update(path, []*Key{key}, func(v *Tx) error {
				return v.Set(fmt.Sprintf("writers.w%02d", i), fmt.Sprint(i))
			})
		}()
	}
	wg.Wait()
	v, err := Open(path, []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
			continue
		}
		if got, err := v.Get(fmt.Sprintf("writers.w%02d", i)); err != nil || got != fmt.Sprint(i) {
			t.Errorf("writer %d reported success but its update is lost: %q, %v", i, got, err)
		}
	}
}

func TestReplaceAndPaths(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealSeed(t, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	tx := &Tx{v: v}
	if err := tx.Replace(map[string]any{"b": map[string]any{"c.d": 1, "e": []string{"x"}}, "a": "y", "empty": map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a", `b.c\.d`, "b.e.0"}
	if diff := cmp.Diff(want, v.Paths()); diff != "" {
		t.Errorf("Paths (-want +got):\n%s", diff)
	}
	if got, _ := v.Get(`b.c\.d`); got != "1" {
		t.Errorf("got %q", got)
	}
	if n, ok := toAny(*v.doc()).(map[string]any)["b"].(map[string]any)["c.d"].(json.Number); !ok || n != "1" {
		t.Errorf("Replace did not normalize an int to json.Number: %#v", toAny(*v.doc()))
	}
	if err := tx.Replace(map[string]any{"bad": make(chan int)}); err == nil {
		t.Error("Replace accepted a channel")
	}
	if err := tx.Replace([]string{"not", "an", "object"}); err == nil || !strings.Contains(err.Error(), "is a JSON array, not an object") {
		t.Errorf("Replace with an array: %v", err)
	}
}

// TestMutationOnlyInUpdate: a Vault that Open returns has no method that
// changes it (a Set on it changed memory only, silently, before); a Tx
// kept past its Update refuses changes, which would be lost.
func TestMutationOnlyInUpdate(t *testing.T) {
	for _, name := range []string{"Set", "Delete", "Replace"} {
		if _, ok := reflect.TypeFor[*Vault]().MethodByName(name); ok {
			t.Errorf("*Vault has a %s method: a change outside Update would be lost", name)
		}
		if _, ok := reflect.TypeFor[*Tx]().MethodByName(name); !ok {
			t.Errorf("*Tx has no %s method", name)
		}
	}
	// A Tx's state is unexported: (&Tx{Vault: v}).Set changed an opened
	// Vault in memory only, and tx.Vault = other inside fn redirected the
	// changes.
	txType := reflect.TypeFor[Tx]()
	for i := range txType.NumField() {
		if f := txType.Field(i); f.IsExported() {
			t.Errorf("Tx has an exported field %s", f.Name)
		}
	}
	key := GenerateKey()
	path := sealSeed(t, key)
	var kept *Tx
	if err := Update(path, []*Key{key}, func(tx *Tx) error {
		kept = tx
		if err := tx.Set("a", "inside"); err != nil {
			return err
		}
		// The reading methods see the change.
		got, err := tx.Get("a")
		if err != nil || got != "inside" {
			t.Errorf("Get inside fn = %q, %v", got, err)
		}
		if _, ok, err := tx.Lookup("a"); !ok || err != nil {
			t.Errorf("Lookup inside fn = %v, %v", ok, err)
		}
		var doc map[string]any
		if err := tx.Decode("", &doc); err != nil || doc["a"] != "inside" {
			t.Errorf("Decode inside fn = %v, %v", doc["a"], err)
		}
		if tx.Name() != path || tx.Len() != 19 || !slices.Contains(tx.Paths(), "a") {
			t.Errorf("Name %q, Len %d, Paths %q", tx.Name(), tx.Len(), tx.Paths())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tx := range []struct {
		name string
		tx   *Tx
	}{{"after Update", kept}, {"zero Tx", &Tx{}}, {"nil Tx", nil}} {
		for name, use := range map[string]func() error{
			"Set":        func() error { return tx.tx.Set("a", "after") },
			"Delete":     func() error { return tx.tx.Delete("a") },
			"Replace":    func() error { return tx.tx.Replace(map[string]any{}) },
			"Get":        func() error { _, err := tx.tx.Get("a"); return err },
			"Lookup":     func() error { _, _, err := tx.tx.Lookup("a"); return err },
			"Decode":     func() error { var s string; return tx.tx.Decode("a", &s) },
			"RevealJSON": func() error { _, err := tx.tx.RevealJSON(); return err },
		} {
			if err := use(); !errors.Is(err, ErrTxDone) {
				t.Errorf("%s: %s: %v, want ErrTxDone", tx.name, name, err)
			}
		}
		if tx.tx.Len() != 0 || tx.tx.Paths() != nil || tx.tx.Name() != "" {
			t.Errorf("%s: Len %d, Paths %q, Name %q", tx.name, tx.tx.Len(), tx.tx.Paths(), tx.tx.Name())
		}
	}
	v, err := Open(path, []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := v.Get("a"); got != "inside" {
		t.Errorf("a = %q", got)
	}
}

// TestTxMatchesMapModel applies random Sets and Deletes through a Tx and
// to a plain map that models them, and compares the two after each step:
// the document changes in place, so a change that leaks into a shared
// object, or a refusal that changes something, shows here.
func TestTxMatchesMapModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 2))
	v := &Vault{name: "model.enc", key: GenerateKey(), opts: newOptions[Option](nil)}
	root := objectNode(nil)
	v.doc = func() *node { return &root }
	tx := &Tx{v: v}
	model := map[string]any{}
	segs := func() []string {
		s := make([]string, 1+rng.IntN(3))
		for i := range s {
			s[i] = string(rune('a' + rng.IntN(3)))
		}
		return s
	}
	for step := range 2000 {
		path := segs()
		p := strings.Join(path, ".")
		if rng.IntN(3) == 0 {
			err := tx.Delete(p)
			if want := present(model, path); want != (err == nil) {
				t.Fatalf("step %d: Delete(%q): %v, with the model holding it: %v", step, p, err, want)
			}
			if err == nil {
				delete(walkTo(model, path[:len(path)-1]), path[len(path)-1])
			}
		} else {
			value := fmt.Sprintf("v%d", step)
			force := rng.IntN(4) == 0
			var opts []SetOption
			if force {
				opts = append(opts, ReplaceTree())
			}
			err := tx.Set(p, value, opts...)
			if want := settable(model, path, force); want != (err == nil) {
				t.Fatalf("step %d: Set(%q, force %v): %v, want success %v", step, p, force, err, want)
			}
			if err == nil {
				m := model
				for _, s := range path[:len(path)-1] {
					if _, ok := m[s]; !ok {
						m[s] = map[string]any{}
					}
					m = m[s].(map[string]any)
				}
				m[path[len(path)-1]] = value
			}
		}
		if got := toAny(root); !reflect.DeepEqual(got, model) {
			t.Fatalf("step %d: document %v, model %v", step, got, model)
		}
	}
}

// walkTo returns the model's object at path, or nil.
func walkTo(model map[string]any, path []string) map[string]any {
	for _, s := range path {
		next, ok := model[s].(map[string]any)
		if !ok {
			return nil
		}
		model = next
	}
	return model
}

// present reports whether the model has a value at path.
func present(model map[string]any, path []string) bool {
	parent := walkTo(model, path[:len(path)-1])
	_, ok := parent[path[len(path)-1]]
	return parent != nil && ok
}

// settable reports whether Set at path succeeds on the model: every
// existing step on the way is an object, and the value replaced is not an
// object holding values unless forced.
func settable(model map[string]any, path []string, force bool) bool {
	m := model
	for _, s := range path[:len(path)-1] {
		next, exists := m[s]
		if !exists {
			return true
		}
		if m, _ = next.(map[string]any); m == nil {
			return false
		}
	}
	old, ok := m[path[len(path)-1]].(map[string]any)
	return force || !ok || countModel(old) == 0
}

func countModel(m map[string]any) int {
	n := 0
	for _, v := range m {
		if sub, ok := v.(map[string]any); ok {
			n += countModel(sub)
		} else {
			n++
		}
	}
	return n
}
