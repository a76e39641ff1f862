package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// holdLock takes the write lock of path in a goroutine and keeps it until
// the returned release is called. It fails the test if the lock cannot be
// taken.
func holdLock(t *testing.T, path string) (release func()) {
	t.Helper()
	held := make(chan error, 1)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		err := withWriteLock(path, newOptions[Option](nil), func(string) error {
			held <- nil
			<-done
			return nil
		})
		if err != nil {
			held <- err
		}
	}()
	if err := <-held; err != nil {
		t.Fatalf("taking the lock of %s: %v", path, err)
	}
	var once sync.Once
	release = func() { once.Do(func() { close(done); <-finished }) }
	t.Cleanup(release)
	return release
}

// TestWritesToTwoVaultsInOneDirectory holds the write lock of one vault and
// writes another vault of the same directory without waiting at all (a lock
// timeout of zero fails at once on a busy lock): one vault's lock does not
// block another's writers. The held vault itself stays locked.
func TestWritesToTwoVaultsInOneDirectory(t *testing.T) {
	for _, held := range []string{"existing", "being created"} {
		t.Run("held vault "+held, func(t *testing.T) {
			key := GenerateKey()
			dir := t.TempDir()
			prod, staging := filepath.Join(dir, "prod.enc"), filepath.Join(dir, "staging.enc")
			for _, p := range []string{prod, staging} {
				if err := Seal(p, map[string]any{"a": "1"}, key); err != nil {
					t.Fatal(err)
				}
			}
			if held == "being created" {
				prod = filepath.Join(dir, "new.enc")
			}
			release := holdLock(t, prod)

			noWait := WithLockTimeout(0)
			if err := Seal(staging, map[string]any{"a": "2"}, key, noWait); err != nil {
				t.Errorf("Seal of the other vault: %v", err)
			}
			err := Update(staging, []*Key{key}, func(v *Tx) error { return v.Set("b", "3") }, noWait)
			if err != nil {
				t.Errorf("Update of the other vault: %v", err)
			}
			if err := Rotate(staging, []*Key{key}, GenerateKey(), noWait); err != nil {
				t.Errorf("Rotate of the other vault: %v", err)
			}
			if err := Seal(prod, map[string]any{"a": "4"}, key, noWait); !errors.Is(err, ErrLocked) {
				t.Errorf("Seal of the held vault: %v, want ErrLocked", err)
			}
			release()
			if err := Seal(prod, map[string]any{"a": "4"}, key, noWait); err != nil {
				t.Errorf("Seal of the released vault: %v", err)
			}
			want := []string{"prod.enc", "staging.enc"}
			if held == "being created" {
				want = []string{"new.enc", "prod.enc", "staging.enc"}
			}
			if names := dirNames(t, dir); !slices.Equal(names, want) {
				t.Errorf("directory holds %q, want %q", names, want)
			}
		})
	}
}

// TestCreationRacesUpdates starts updates of a vault that does not exist
// yet, each retrying until it does, beside the Seal that creates it: the
// creator locks the directory, the updaters then lock the new file, and
// every update lands on top of the created vault.
func TestCreationRacesUpdates(t *testing.T) {
	key := GenerateKey()
	path := filepath.Join(t.TempDir(), "v.enc")
	const updaters = 6
	var wg sync.WaitGroup
	errs := make(chan error, updaters+1)
	for i := range updaters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				err := Update(path, []*Key{key}, func(v *Tx) error {
					return v.Set(fmt.Sprintf("w%02d", i), "written")
				})
				if !errors.Is(err, fs.ErrNotExist) {
					errs <- err
					return
				}
				runtime.Gosched()
			}
		}()
	}
	errs <- Seal(path, map[string]any{"seed": "x"}, key)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	v, err := Open(path, []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Len(); got != updaters+1 {
		t.Errorf("the vault holds %q, want the seed and %d updates", v.Paths(), updaters)
	}
	if names := dirNames(t, filepath.Dir(path)); len(names) != 1 {
		t.Errorf("directory holds %q, want only the vault", names)
	}
}

// TestLockWaitCancelled cancels the context of a writer waiting for the
// lock: it stops waiting with an error that wraps the context's and
// ErrLocked (another writer held the lock), and never runs its write.
func TestLockWaitCancelled(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	holdLock(t, path)

	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	o := newOptions([]Option{withFailpoint(func(stage string) error {
		if stage == "lock-wait" {
			once.Do(cancel) // cancel once the writer waits
		}
		return nil
	})})
	ran := false
	err := withWriteLockContext(ctx, path, o, func(string) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrLocked) {
		t.Fatalf("error %v, want one wrapping context.Canceled and ErrLocked", err)
	}
	if ran {
		t.Error("the write ran without the lock")
	}

	// A context cancelled before the call never takes the lock.
	err = withWriteLockContext(ctx, filepath.Join(t.TempDir(), "new.enc"), newOptions[Option](nil), func(string) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("with a cancelled context: error %v, ran %v", err, ran)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// lockedSeed seals the seed vault with key, holds its write lock for the
// rest of the test as another writer would, and returns its path and its
// bytes.
func lockedSeed(t *testing.T, key *Key) (path string, before []byte) {
	t.Helper()
	path = sealSeed(t, key)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	holdLock(t, path)
	return path, before
}

// TestSealContextStopsWaiting cancels SealContext and RotateContext while
// another writer holds the vault's lock: they return the context's error
// and the vault is unchanged.
func TestSealContextStopsWaiting(t *testing.T) {
	key := GenerateKey()
	path, before := lockedSeed(t, key)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := SealContext(ctx, path, map[string]any{"a": "b"}, key); !errors.Is(err, context.Canceled) {
		t.Errorf("SealContext: %v, want context.Canceled", err)
	}
	if err := RotateContext(ctx, path, []*Key{key}, GenerateKey()); !errors.Is(err, context.Canceled) {
		t.Errorf("RotateContext: %v, want context.Canceled", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the vault changed")
	}
}

// TestSealBadDocumentWhileLocked seals a document that does not encode
// while another writer holds the vault's lock: Seal encodes while it
// waits for the lock, and the encoding error ends the wait at once (as
// when the document was encoded before the lock was taken), rather than
// after the lock timeout; the vault is unchanged.
func TestSealBadDocumentWhileLocked(t *testing.T) {
	key := GenerateKey()
	path, before := lockedSeed(t, key)
	start := time.Now()
	err := Seal(path, map[string]any{"a": "\xff"}, key, WithLockTimeout(20*time.Second))
	if err == nil || !strings.Contains(err.Error(), `"a" is not valid UTF-8`) {
		t.Errorf("Seal: %v, want the encoding error", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("Seal waited %v for the lock before reporting the document's error", waited)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the vault changed")
	}
}
