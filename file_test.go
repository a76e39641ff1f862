package vault

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// withFailpoint makes writes call f at each named stage; an error from f
// fails the write there.
func withFailpoint(f func(stage string) error) Option {
	return optionFunc(func(o *options) { o.failpoint = f })
}

// dirNames lists a directory's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestFailedSealLeavesVaultIntact(t *testing.T) {
	for _, stage := range []string{"write", "sync", "rename"} {
		t.Run(stage, func(t *testing.T) {
			key := GenerateKey()
			path := sealSeed(t, key)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			injected := errors.New("injected failure: no space left on device")
			fail := withFailpoint(func(s string) error {
				if s == stage {
					return injected
				}
				return nil
			})
			err = Seal(path, map[string]any{"database": map[string]any{"password": "new-secret-value"}}, key, fail)
			if !errors.Is(err, injected) {
				t.Fatalf("Seal error %v, want the injected one", err)
			}
			if !strings.Contains(err.Error(), "the vault is unchanged") {
				t.Errorf("error %q does not say the vault is unchanged", err)
			}
			assertNoLeak(t, "error", err.Error(), "new-secret-value")
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Error("the vault changed")
			}
			if names := dirNames(t, filepath.Dir(path)); len(names) != 1 {
				t.Errorf("directory holds %q, want only the vault", names)
			}
		})
	}
}

func TestSealIntoUnwritableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write into a read-only directory; TestFailedSealLeavesVaultIntact injects the failure instead")
	}
	key := GenerateKey()
	path := sealSeed(t, key)
	dir := filepath.Dir(path)
	before, _ := os.ReadFile(path)
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	err := Seal(path, map[string]any{"a": "b"}, key)
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("Seal error %v, want permission denied", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the vault changed")
	}
}

func TestSealRemovesStaleTempFiles(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	dir := filepath.Dir(path)
	stale := filepath.Join(dir, tempPrefix(filepath.Base(path))+"0123456789abcdef")
	other := filepath.Join(dir, ".other.enc.tmp-0123456789abcdef")
	for _, p := range []string{stale, other} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := Seal(path, map[string]any{"a": "b"}, key); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("the stale temporary file of this vault is still there")
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("the temporary file of another vault was removed")
	}
}

// TestConcurrentSeals runs writers of one vault at once: each must succeed
// (they are serialized) and the vault must end as one of them wrote it.
func TestConcurrentSeals(t *testing.T) {
	key := GenerateKey()
	path := filepath.Join(t.TempDir(), "v.enc")
	const writers = 12
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- Seal(path, map[string]any{"writer": i}, key)
		}()
	}
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
	if _, err := v.Get("writer"); err != nil {
		t.Error(err)
	}
	if names := dirNames(t, filepath.Dir(path)); len(names) != 1 {
		t.Errorf("directory holds %q, want only the vault", names)
	}
}

func TestLockTimeout(t *testing.T) {
	key := GenerateKey()
	path := filepath.Join(t.TempDir(), "v.enc")
	held := make(chan struct{})
	release := make(chan struct{})
	go withWriteLock(path, newOptions[Option](nil), func(string) error {
		close(held)
		<-release
		return nil
	})
	<-held
	start := time.Now()
	err := Seal(path, map[string]any{"a": "b"}, key, WithLockTimeout(100*time.Millisecond))
	close(release)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Seal error %v, want ErrLocked", err)
	}
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Errorf("gave up after %v, before the timeout", waited)
	}
	if !strings.Contains(err.Error(), "the vault is unchanged") {
		t.Errorf("error %q does not say the vault is unchanged", err)
	}
}

func TestSymlinkedVault(t *testing.T) {
	key := GenerateKey()
	target := sealSeed(t, key)
	link := filepath.Join(t.TempDir(), "link.enc")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(link, []*Key{key}); err != nil {
		t.Fatalf("Open through a link: %v", err)
	}
	if err := Seal(link, map[string]any{"changed": "yes"}, key); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced by a file")
	}
	v, err := Open(target, []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := v.Get("changed"); got != "yes" {
		t.Error("the link's target was not rewritten")
	}
}

func TestOversizedVaultRefusedUnread(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.enc")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse 200 MB file: refusing it must not need reading it.
	if err := f.Truncate(200 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Open(path, []*Key{GenerateKey()})
	want := fmt.Sprintf("is %d bytes, more than the 64 MiB a vault may be", 200<<20)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one saying %q", err, want)
	}
}

func TestSaveKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	key := GenerateKey()
	if err := SaveKey(path, key); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != key.Encode()+"\n" {
		t.Error("the key file does not hold the key and a newline")
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", info.Mode().Perm())
	}
	other := GenerateKey()
	err = SaveKey(path, other)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("SaveKey over an existing file: %v", err)
	}
	assertNoLeak(t, "error", err.Error(), key.Encode(), other.Encode())
	if again, _ := os.ReadFile(path); !bytes.Equal(again, b) {
		t.Error("an existing key file was changed")
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q, want only the key file", names)
	}
}
