package custody_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

// TestOffboarding is the library's team flow: seal for alice, bob and CI;
// each opens; bob is removed and the vault rotated; bob's identity, and the
// key he may have kept, no longer open it.
func TestOffboarding(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kms := newFakeKMS("ci")
	drivers := []custody.Driver{kms}
	alice, aliceFile := identity(t, dir, "alice.txt")
	bob, bobFile := identity(t, dir, "bob.txt")
	path, _ := sealFor(t, dir, drivers,
		recipient(t, alice.Recipient().String(), "alice"),
		recipient(t, bob.Recipient().String(), "bob"),
		recipient(t, "fakekms://ci", "ci", kms))
	asAlice := custody.Resolver{Identities: []string{aliceFile}, KMS: drivers}
	asBob := custody.Resolver{Identities: []string{bobFile}} // bob has no access to the KMS
	asCI := custody.Resolver{KMS: drivers}
	var bobsKey *vault.Key
	for name, res := range map[string]*custody.Resolver{"alice": &asAlice, "bob": &asBob, "ci": &asCI} {
		kr, err := res.Resolve(ctx, path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if kr.Route.Label != name {
			t.Errorf("%s opened through %v", name, kr.Route)
		}
		if name == "bob" {
			bobsKey = kr.Keys[0]
		}
	}

	kr, _ := asAlice.Resolve(ctx, path)
	removed, err := custody.RemoveRecipient(context.Background(), path, kr.Keys[0], "bob")
	if err != nil || removed.Label != "bob" {
		t.Fatalf("RemoveRecipient: %v, %v", removed, err)
	}
	newKey := vault.GenerateKey()
	if err := custody.Rotate(ctx, path, kr.Keys, newKey, drivers); err != nil {
		t.Fatal(err)
	}
	if kr, err := asBob.Resolve(ctx, path); !errors.Is(err, custody.ErrNoKey) {
		t.Errorf("bob after removal and rotation: %v %v, want ErrNoKey", kr, err)
	}
	if _, err := vault.Open(path, []*vault.Key{bobsKey}); !errors.Is(err, vault.ErrWrongKey) {
		t.Errorf("the key bob kept: %v, want ErrWrongKey", err)
	}
	for name, res := range map[string]*custody.Resolver{"alice": &asAlice, "ci": &asCI} {
		kr, err := res.Resolve(ctx, path)
		if err != nil || kr.Keys[0].Fingerprint() != newKey.Fingerprint() {
			t.Errorf("%s after the rotation: %v, %v", name, kr, err)
			continue
		}
		if got := get(t, path, kr.Keys); got != "fake-canary-pw" {
			t.Errorf("%s reads %q", name, got)
		}
	}
}

// TestRotateAllOrNothing: a recipient that cannot be wrapped for leaves the
// vault and its recipients file byte-identical.
func TestRotateAllOrNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kms := newFakeKMS("ci")
	drivers := []custody.Driver{kms}
	alice, aliceFile := identity(t, dir, "alice.txt")
	path, _ := sealFor(t, dir, drivers, recipient(t, alice.Recipient().String(), "alice"), recipient(t, "fakekms://ci", "ci", kms))
	kr, err := (&custody.Resolver{Identities: []string{aliceFile}}).Resolve(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	vaultBefore, _ := os.ReadFile(path)
	keysBefore, _ := os.ReadFile(custody.KeysPath(path))
	delete(kms.keys, "ci")
	err = custody.Rotate(ctx, path, kr.Keys, vault.GenerateKey(), drivers)
	contains(t, "rotate", err, `kms recipient "ci" (fakekms://ci): fakekms: access denied`, "nothing was changed")
	vaultAfter, _ := os.ReadFile(path)
	keysAfter, _ := os.ReadFile(custody.KeysPath(path))
	if !bytes.Equal(vaultBefore, vaultAfter) || !bytes.Equal(keysBefore, keysAfter) {
		t.Error("a failed rotation changed the files")
	}
	if names, _ := os.ReadDir(dir); len(names) != 3 { // the vault, its recipients file, alice.txt
		t.Errorf("directory holds %d entries", len(names))
	}
}

func TestRecipientChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	alice, aliceFile := identity(t, dir, "alice.txt")
	bob, bobFile := identity(t, dir, "bob.txt")
	path, _ := sealFor(t, dir, nil, recipient(t, alice.Recipient().String(), "alice"))
	kr, err := (&custody.Resolver{Identities: []string{aliceFile}}).Resolve(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	key := kr.Keys[0]
	keysPath := custody.KeysPath(path)
	info, err := os.Stat(keysPath)
	if err != nil || info.Mode().Perm() != custody.FileMode {
		t.Errorf("recipients file mode %v, want %v", info.Mode(), custody.FileMode)
	}

	contains(t, "remove last", func() error { _, err := custody.RemoveRecipient(context.Background(), path, key, "alice"); return err }(), "only recipient")
	contains(t, "remove unknown", func() error { _, err := custody.RemoveRecipient(context.Background(), path, key, "carol"); return err }(), `no recipient with ID or label "carol"`)
	err = custody.AddRecipient(ctx, path, vault.GenerateKey(), recipient(t, bob.Recipient().String(), "bob"), nil)
	contains(t, "add with a wrong key", err, "which is not the vault's key")
	if err := custody.AddRecipient(ctx, path, key, recipient(t, bob.Recipient().String(), "bob"), nil); err != nil {
		t.Fatal(err)
	}
	contains(t, "add twice", custody.AddRecipient(ctx, path, key, recipient(t, bob.Recipient().String(), "robert"), nil), "already lists")
	contains(t, "label twice", custody.AddRecipient(ctx, path, key, recipient(t, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj", "bob"), nil), `already has a recipient labelled "bob"`)
	if _, err := (&custody.Resolver{Identities: []string{bobFile}}).Resolve(ctx, path); err != nil {
		t.Errorf("bob after AddRecipient: %v", err)
	}
	removed, err := custody.RemoveRecipient(context.Background(), path, key, bob.Recipient().String())
	if err != nil || removed.Label != "bob" {
		t.Errorf("remove by ID: %v, %v", removed, err)
	}
	contains(t, "no recipients file", custody.AddRecipient(ctx, filepath.Join(dir, "none.enc"), key, recipient(t, bob.Recipient().String(), "bob"), nil), "has no recipients file")
}

// The kill test: a child process rotates a vault with its recipients file
// again and again, and is killed with SIGKILL at random moments. After
// every kill, alice's identity must still lead to a key that opens the
// vault: the vault and its recipients file never disagree for good.
const crashChildEnv = "CREDVAULT_CUSTODY_CRASH_CHILD"

func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("the child process of TestKillDuringRotate")
	}
	ctx := context.Background()
	res := custody.Resolver{Identities: []string{filepath.Join(dir, "alice.txt")}}
	path := filepath.Join(dir, "credentials.enc")
	for {
		kr, err := res.Resolve(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := custody.Rotate(ctx, path, kr.Keys, vault.GenerateKey(), nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestKillDuringRotate(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	dir := t.TempDir()
	alice, aliceFile := identity(t, dir, "alice.txt")
	bob, _ := identity(t, dir, "bob.txt")
	path, _ := sealFor(t, dir, nil, recipient(t, alice.Recipient().String(), "alice"), recipient(t, bob.Recipient().String(), "bob"))
	res := custody.Resolver{Identities: []string{aliceFile}}
	pending := 0
	for i := range 20 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+i*7%40) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		kr, err := res.Resolve(context.Background(), path)
		if err != nil {
			t.Fatalf("kill %d: no key opens the vault: %v", i, err)
		}
		if got := get(t, path, kr.Keys); got != "fake-canary-pw" {
			t.Fatalf("kill %d: the vault reads %q", i, got)
		}
		if strings.HasSuffix(kr.Route.File, ".pending") {
			pending++
		}
	}
	t.Logf("20 kills, every one left a vault that opens; %d through the pending recipients file", pending)
}

// TestSecretsWhereNamesBelong: a vault key or an age identity given as a
// recipient, a label, the recipient to remove, an identity file's name, the
// keyring variable's name or the key command is refused, and not quoted.
func TestSecretsWhereNamesBelong(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	alice, aliceFile := identity(t, dir, "alice.txt")
	path, _ := sealFor(t, dir, nil, recipient(t, alice.Recipient().String(), "alice"))
	key := vault.GenerateKey().Encode()
	secret := alice.String()
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"identity as recipient", func() error { _, err := custody.NewRecipient(secret, "", nil); return err }, "is a secret"},
		{"key as recipient", func() error { _, err := custody.NewRecipient(key, "", nil); return err }, "is a secret"},
		{"key as label", func() error { _, err := custody.NewRecipient(alice.Recipient().String(), key, nil); return err }, "the label is a key"},
		{"remove by identity", func() error {
			kr, err := (&custody.Resolver{Identities: []string{aliceFile}}).Resolve(ctx, path)
			if err != nil {
				return err
			}
			_, err = custody.RemoveRecipient(context.Background(), path, kr.Keys[0], secret)
			return err
		}, "named by a secret"},
		{"identity file name", func() error {
			_, err := (&custody.Resolver{Identities: []string{secret}}).Resolve(ctx, path)
			return err
		}, "the name of an age identity file is an age identity"},
		{"identity file variable", func() error {
			_, err := (&custody.Resolver{Getenv: env{"CREDVAULT_AGE_KEY_FILE": secret}.get}).Resolve(ctx, path)
			return err
		}, "$CREDVAULT_AGE_KEY_FILE holds an age identity"},
		{"key variable name", func() error { _, err := (&custody.Resolver{KeyEnv: key}).Resolve(ctx, path); return err }, "KeyEnv, the name of the keyring's variable, is a key"},
		{"key command", func() error { _, err := (&custody.Resolver{KeyCmd: key}).Resolve(ctx, path); return err }, "KeyCmd, the key command, is a key"},
		{"key file", func() error { _, err := (&custody.Resolver{KeyFile: key}).Resolve(ctx, path); return err }, "the key file's path is a key itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			contains(t, tc.name, err, tc.want)
			if err != nil && (strings.Contains(err.Error(), key) || strings.Contains(err.Error(), secret)) {
				t.Errorf("the error quotes the secret: %v", err)
			}
		})
	}
}

// TestLabels: labels are for people: no control or invisible characters,
// nothing that reads as a recipient ID.
func TestLabels(t *testing.T) {
	id := "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
	for _, label := range []string{"alice", "ci prod", "Zoë", "ci-eu-west-1", ""} {
		if _, err := custody.NewRecipient(id, label, nil); err != nil {
			t.Errorf("label %q: %v", label, err)
		}
	}
	for label, want := range map[string]string{
		"evil\u202egnp":         "U+202E",
		"a\u200bb":              "U+200B",
		"tab\there":             "U+0009",
		"line\u2028two":         "U+2028",
		"nbsp\u00a0x":           "U+00A0",
		" alice":                "starts or ends with a space",
		id:                      "looks like a recipient ID",
		"Age1bob":               "looks like a recipient ID",
		"awskms:///alias/ci":    "looks like a recipient ID",
		strings.Repeat("x", 65): "longer than 64 bytes",
	} {
		_, err := custody.NewRecipient(id, label, nil)
		contains(t, "label "+label, err, want)
	}
}

// TestRemovePrefersID: "recipients remove ID" removes the recipient with
// that ID, even when a hand-edited file gives another that ID as its label.
func TestRemovePrefersID(t *testing.T) {
	dir := t.TempDir()
	alice, aliceFile := identity(t, dir, "alice.txt")
	bob, _ := identity(t, dir, "bob.txt")
	path, _ := sealFor(t, dir, nil, recipient(t, alice.Recipient().String(), "alice"), recipient(t, bob.Recipient().String(), "bob"))
	f, err := custody.ReadFile(custody.KeysPath(path))
	if err != nil {
		t.Fatal(err)
	}
	// alice labelled with bob's ID, as a file edited by hand could have
	// it: Find takes the ID, and the file is refused when written or read.
	i := f.Find("alice")
	f.Recipients[i].Label = bob.Recipient().String()
	if j := f.Find(bob.Recipient().String()); j == i || f.Recipients[j].ID != bob.Recipient().String() {
		t.Errorf("Find(bob's ID) = recipient %d, alice's", j)
	}
	if _, err := f.Marshal(); err == nil || !strings.Contains(err.Error(), "looks like a recipient ID") {
		t.Errorf("a label that is another recipient's ID: %v", err)
	}
	kr, err := (&custody.Resolver{Identities: []string{aliceFile}}).Resolve(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := custody.RemoveRecipient(context.Background(), path, kr.Keys[0], bob.Recipient().String())
	if err != nil || removed.ID != bob.Recipient().String() {
		t.Errorf("removed %v, %v; want bob", removed, err)
	}
}

// TestRotateDuringRecipientChange: a recipient removed, or added, while a
// rotation wraps its new key (a slow KMS) is not put back, or dropped: the
// rotation reads the recipients file again under the vault's lock.
func TestRotateDuringRecipientChange(t *testing.T) {
	ctx := context.Background()
	for _, change := range []string{"remove bob", "add carol"} {
		t.Run(change, func(t *testing.T) {
			dir := t.TempDir()
			kms := newFakeKMS("ci")
			drivers := []custody.Driver{kms}
			alice, aliceFile := identity(t, dir, "alice.txt")
			bob, bobFile := identity(t, dir, "bob.txt")
			carol, carolFile := identity(t, dir, "carol.txt")
			path, _ := sealFor(t, dir, drivers,
				recipient(t, alice.Recipient().String(), "alice"),
				recipient(t, bob.Recipient().String(), "bob"),
				recipient(t, "fakekms://ci", "ci", kms))
			kr, err := (&custody.Resolver{Identities: []string{aliceFile}}).Resolve(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			var once sync.Once
			kms.onWrap = func() {
				once.Do(func() {
					var err error
					if change == "remove bob" {
						_, err = custody.RemoveRecipient(ctx, path, kr.Keys[0], "bob")
					} else {
						err = custody.AddRecipient(ctx, path, kr.Keys[0], recipient(t, carol.Recipient().String(), "carol"), nil)
					}
					if err != nil {
						t.Errorf("%s during the rotation: %v", change, err)
					}
				})
			}
			newKey := vault.GenerateKey()
			if err := custody.Rotate(ctx, path, kr.Keys, newKey, drivers); err != nil {
				t.Fatal(err)
			}
			f, err := custody.ReadFile(custody.KeysPath(path))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rc := range f.Recipients {
				got = append(got, rc.Label)
			}
			slices.Sort(got)
			want, file, opens := []string{"alice", "ci"}, bobFile, false
			if change == "add carol" {
				want, file, opens = []string{"alice", "bob", "carol", "ci"}, carolFile, true
			}
			if !slices.Equal(got, want) {
				t.Errorf("after the rotation the file lists %q, want %q", got, want)
			}
			kr, err = (&custody.Resolver{Identities: []string{file}}).Resolve(ctx, path)
			if (err == nil) != opens || err == nil && kr.Keys[0].Fingerprint() != newKey.Fingerprint() {
				t.Errorf("%s's identity after the rotation: %v, %v; want it to open: %v", file, kr, err, opens)
			}
		})
	}
}

// TestRotateSettlesThePendingFile: when the recipients file is stale and
// its pending file is the one that records the vault's key (a write killed
// between its two renames), a rotation settles the pending file before it
// stages its own, which would otherwise replace the only record of the
// vault's key: here the rotation is refused by the audit after that point,
// and the vault must still open.
func TestRotateSettlesThePendingFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	alice, aliceFile := identity(t, dir, "alice.txt")
	path, _ := sealFor(t, dir, nil, recipient(t, alice.Recipient().String(), "alice"))
	res := custody.Resolver{Identities: []string{aliceFile}}
	kr, _ := res.Resolve(ctx, path)
	keysPath := custody.KeysPath(path)
	old, _ := os.ReadFile(keysPath)
	if err := custody.Rotate(ctx, path, kr.Keys, vault.GenerateKey(), nil); err != nil {
		t.Fatal(err)
	}
	os.Rename(keysPath, vault.PendingSidecar(keysPath))
	os.WriteFile(keysPath, old, 0o644) // stale: the old key

	kr, err := res.Resolve(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	refuse := vault.WithAuditor(vault.AuditorFunc(func(context.Context, vault.Event) error { return errors.New("audit refused") }))
	if err := custody.Rotate(ctx, path, kr.Keys, vault.GenerateKey(), nil, refuse); err == nil {
		t.Fatal("the refused rotation succeeded")
	}
	f, err := custody.ReadFile(keysPath)
	if err != nil || f.Key != kr.Keys[0].Fingerprint() {
		t.Errorf("the recipients file records %v (%v), want the vault's key %s: the pending file was not settled", f, err, kr.Keys[0].Fingerprint())
	}
	if _, err := res.Resolve(ctx, path); err != nil {
		t.Errorf("after the refused rotation: %v", err)
	}
}

// TestSealCreates: Seal refuses an existing vault, an existing recipients
// file, and one left beside no vault, changing nothing; Replace replaces.
func TestSealCreates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	alice, _ := identity(t, dir, "alice.txt")
	rs := []custody.Recipient{recipient(t, alice.Recipient().String(), "alice")}
	path := filepath.Join(dir, "credentials.enc")
	if _, err := custody.Seal(ctx, path, map[string]string{"a": "fake-1"}, rs, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	_, err := custody.Seal(ctx, path, map[string]any{}, rs, nil)
	contains(t, "existing vault", err, "already exists: Seal creates a vault; Replace replaces one")
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("%v does not wrap fs.ErrExist", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a refused Seal changed the vault")
	}
	if _, err := custody.Replace(ctx, path, map[string]any{}, rs, nil); err != nil {
		t.Errorf("Replace: %v", err)
	}
	os.Remove(path)
	_, err = custody.Seal(ctx, path, map[string]any{}, rs, nil)
	contains(t, "leftover recipients file", err, path+" does not exist, but "+custody.KeysPath(path)+" does: it was left by a vault that was moved or deleted")
}

// barrierKMS wraps only when all n of its Wrap calls have started: a
// Wrap that made its requests one after another would wait for ever (up
// to ctx's deadline).
type barrierKMS struct {
	*fakeKMS
	n  int
	mu sync.Mutex
	ch chan struct{}
}

func (b *barrierKMS) Wrap(ctx context.Context, u *url.URL, key []byte, bd custody.Binding) ([]byte, error) {
	b.mu.Lock()
	b.n--
	if b.n == 0 {
		close(b.ch)
	}
	b.mu.Unlock()
	select {
	case <-b.ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.fakeKMS.Wrap(ctx, u, key, bd)
}

// TestWrapAtOnce: the KMS requests of one write are made at once, so one
// deadline bounds them all, rather than one each in turn.
func TestWrapAtOnce(t *testing.T) {
	kms := &barrierKMS{fakeKMS: newFakeKMS("a", "b", "c"), n: 3, ch: make(chan struct{})}
	var rs []custody.Recipient
	for _, name := range []string{"a", "b", "c"} {
		rs = append(rs, recipient(t, "fakekms://"+name, name, kms))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := custody.Wrap(ctx, vault.GenerateKey(), rs, []custody.Driver{kms})
	if err != nil {
		t.Fatalf("Wrap: %v (were the requests made one after another?)", err)
	}
	if len(f.Recipients) != 3 {
		t.Errorf("%d recipients", len(f.Recipients))
	}
}

// TestKeysFileNeverReplacesKeys: an age identity or a key file at the
// recipients file's name (copied there, or reached by a symbolic link) is
// never replaced: not by Seal, whose error does not call it a leftover
// recipients file, not by Replace, and not when a pending file is settled
// over it (Rotate, AddRecipient).
func TestKeysFileNeverReplacesKeys(t *testing.T) {
	ctx := context.Background()
	for _, how := range []string{"copy", "link", "key file"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			alice, aliceFile := identity(t, dir, "alice.txt")
			rs := []custody.Recipient{recipient(t, alice.Recipient().String(), "alice")}
			path := filepath.Join(dir, "credentials.enc")
			keysPath := custody.KeysPath(path)
			precious := aliceFile
			if how == "key file" {
				precious = filepath.Join(dir, "master.key")
				if err := vault.SaveKey(precious, vault.GenerateKey()); err != nil {
					t.Fatal(err)
				}
			}
			want, _ := os.ReadFile(precious)
			place := func() {
				os.Remove(keysPath)
				if how == "link" {
					if err := os.Symlink(filepath.Base(precious), keysPath); err != nil {
						t.Skip(err)
					}
				} else if err := os.WriteFile(keysPath, want, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			kept := func(what string) {
				t.Helper()
				for _, p := range []string{precious, keysPath} {
					if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
						t.Errorf("after %s, %s holds %q", what, filepath.Base(p), got)
					}
				}
			}
			place()
			_, err := custody.Seal(ctx, path, map[string]any{}, rs, nil)
			contains(t, "Seal", err, "exists and is not a recipients file")
			if err != nil && strings.Contains(err.Error(), "left by a vault") {
				t.Errorf("Seal calls it a leftover recipients file: %v", err)
			}
			kept("Seal")
			_, err = custody.Replace(ctx, path, map[string]any{}, rs, nil, vault.WithReplaceAny())
			contains(t, "Replace", err, "writing it would destroy it, and no option allows that")
			kept("Replace")
			if _, err := os.Stat(path); err == nil {
				t.Error("Replace wrote the vault")
			}

			// A vault whose recipients file is pending (a write killed
			// between its renames), and the key at the file's name.
			os.Remove(keysPath)
			if _, err := custody.Seal(ctx, path, map[string]any{"a": "fake-1"}, rs, nil); err != nil {
				t.Fatal(err)
			}
			os.Rename(keysPath, vault.PendingSidecar(keysPath))
			place()
			kr, err := (&custody.Resolver{Identities: []string{aliceFile}}).Resolve(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			err = custody.Rotate(ctx, path, kr.Keys, vault.GenerateKey(), nil)
			contains(t, "Rotate", err, "is not a recipients file, and would be lost")
			kept("Rotate")
			bob, _ := identity(t, dir, "bob.txt")
			err = custody.AddRecipient(ctx, path, kr.Keys[0], recipient(t, bob.Recipient().String(), "bob"), nil)
			if err == nil {
				t.Error("AddRecipient replaced it")
			}
			kept("AddRecipient")
		})
	}
}
