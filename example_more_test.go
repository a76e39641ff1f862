package vault_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/credvault/vault"
)

// copyFile copies a vault file, as git gives a merge driver its versions.
func copyFile(from, to string) {
	data, err := os.ReadFile(from)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		log.Fatal(err)
	}
}

func ExampleMerge() {
	base, key, done := exampleVault(map[string]any{"api": map[string]any{"token": "fake-old"}, "region": "eu-west-1"})
	defer done()
	keys := []*vault.Key{key}
	ours := filepath.Join(filepath.Dir(base), "ours.enc")
	theirs := filepath.Join(filepath.Dir(base), "theirs.enc")
	copyFile(base, ours)
	copyFile(base, theirs)

	// Two branches change different values: both changes are kept.
	vault.Update(ours, keys, func(tx *vault.Tx) error { return tx.Set("api.token", "fake-new") })
	vault.Update(theirs, keys, func(tx *vault.Tx) error { return tx.Set("replicas", 3) })
	if err := vault.Merge(base, ours, theirs, keys); err != nil {
		log.Fatal(err)
	}
	v, _ := vault.Open(ours, keys)
	fmt.Println(v.Paths())

	// Both change the region, differently: a conflict, named by its path.
	copyFile(ours, base)
	copyFile(ours, theirs)
	vault.Update(ours, keys, func(tx *vault.Tx) error { return tx.Set("region", "us-east-1") })
	vault.Update(theirs, keys, func(tx *vault.Tx) error { return tx.Set("region", "ap-south-1") })
	err := vault.Merge(base, ours, theirs, keys)
	var conflicts *vault.MergeError
	if errors.As(err, &conflicts) {
		for _, c := range conflicts.Conflicts {
			fmt.Println(c.Path, "ours:", c.Ours, "theirs:", c.Theirs)
		}
	}
	fmt.Println(errors.Is(err, vault.ErrConflict))
	// Output:
	// [api.token region replicas]
	// region ours: changed theirs: changed
	// true
}

func ExampleKeyringFromEnv() {
	// getenv is os.Getenv in a program; a map here. During a rotation the
	// variable holds "new,old".
	env := map[string]string{"MASTER_KEY": vault.GenerateKey().Encode() + "," + vault.GenerateKey().Encode()}
	keys, err := vault.KeyringFromEnv(func(name string) string { return env[name] }, "MASTER_KEY")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(keys), "keys")

	// An unset variable is an error that names it, and says how to set it.
	_, err = vault.KeyringFromEnv(func(string) string { return "" }, "MASTER_KEY_STAGING")
	fmt.Println(err != nil)
	// Output:
	// 2 keys
	// true
}

func ExampleReadKeyringFile() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "master.key")
	if err := vault.SaveKey(path, vault.GenerateKey()); err != nil { // mode 0600
		log.Fatal(err)
	}
	keys, err := vault.ReadKeyringFile(path, func(msg string) { fmt.Println("warning:", msg) })
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(keys), "key")

	// A file others can read still gives its keys, with a warning.
	os.Chmod(path, 0o644)
	keys, _ = vault.ReadKeyringFile(path, func(string) { fmt.Println("warning: others can read it") })
	fmt.Println(len(keys), "key")

	_, err = vault.ReadKeyringFile(filepath.Join(dir, "missing.key"), nil)
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	// Output:
	// 1 key
	// warning: others can read it
	// 1 key
	// true
}

func ExampleWithSidecar() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	// A file that must always describe the vault (package custody keeps
	// the recipients of its key this way) is written in the same write:
	// a kill at any instant leaves the two matching, or the new sidecar
	// pending beside the vault (vault.PendingSidecar).
	note := path + ".note"
	err := vault.Update(path, []*vault.Key{key}, func(tx *vault.Tx) error {
		return tx.Set("database.port", 6432)
	}, vault.WithSidecar(note, 0o644, func() ([]byte, error) {
		return []byte("port changed to 6432\n"), nil
	}))
	if err != nil {
		log.Fatal(err)
	}
	data, _ := os.ReadFile(note)
	fmt.Print(string(data))
	// Output:
	// port changed to 6432
}

func ExampleUpdateSidecar() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	// The sidecar alone changes, under the vault's write lock: Content
	// reads it with no other writer of the vault or its sidecars running.
	note := path + ".note"
	err := vault.UpdateSidecar(context.Background(), path, vault.SidecarUpdate{
		Path: note,
		Perm: 0o644,
		Content: func() ([]byte, error) {
			old, _ := os.ReadFile(note) // absent the first time
			return append(old, "reviewed\n"...), nil
		},
		Key: key.Fingerprint(),
	})
	if err != nil {
		log.Fatal(err)
	}
	data, _ := os.ReadFile(note)
	fmt.Print(string(data))
	// Output:
	// reviewed
}

func ExampleNotSecret() {
	if _, err := exec.LookPath("sh"); err != nil {
		fmt.Println("connecting to db.example.com:5432 as ***") // no sh here: what it would print
		return
	}
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	v, _ := vault.Open(path, []*vault.Key{key})
	// The host and port are not secrets: a deploy log may show them.
	public := vault.NotSecret("database.host", "database.port")
	err := v.Run(context.Background(), &vault.Command{
		Args:    []string{"sh", "-c", `echo "connecting to $DB_HOST:$DB_PORT as $DB_PASSWORD"`},
		Env:     []string{"PATH=/usr/bin:/bin"},
		Prefix:  "DB_",
		Flatten: []vault.FlattenOption{vault.FromPath("database"), public},
		Stdout:  os.Stdout,
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// connecting to db.example.com:5432 as ***
}

func ExampleParseJSONValue() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	// A value typed as JSON, as "credvault set -json" takes it: numbers
	// keep their text.
	value, err := vault.ParseJSONValue([]byte(`{"hosts": ["a.example.com", "b.example.com"], "timeout": 2.50}`))
	if err != nil {
		log.Fatal(err)
	}
	err = vault.Update(path, []*vault.Key{key}, func(tx *vault.Tx) error {
		return tx.Set("cluster", value)
	})
	if err != nil {
		log.Fatal(err)
	}
	v, _ := vault.Open(path, []*vault.Key{key})
	timeout, _ := v.Get("cluster.timeout")
	host, _ := v.Get("cluster.hosts.1")
	fmt.Println(timeout, host)

	// Its errors give offsets, never the text.
	_, err = vault.ParseJSONValue([]byte(`{"password": "fake-s3cret",}`))
	fmt.Println(err)
	// Output:
	// 2.50 b.example.com
	// vault: the input is not valid JSON (syntax error at byte 28): give one JSON value, such as 5432, true, null, "text", [1, 2] or {"a": 1}
}

func ExampleSealedAt() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "credentials.enc")
	sealed := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	err := vault.Seal(path, map[string]any{"token": "fake"}, vault.GenerateKey(),
		vault.WithClock(func() time.Time { return sealed }))
	if err != nil {
		log.Fatal(err)
	}
	// No key needed: the timestamp is visible to anyone who can read the file.
	at, err := vault.SealedAt(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(at.UTC())
	// Output:
	// 2026-03-01 12:00:00 +0000 UTC
}

func ExampleKey_LongFingerprint() {
	key, err := vault.ParseKey("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=") // the Fernet spec's test key
	if err != nil {
		log.Fatal(err)
	}
	// All 64 digits, for a pin (custody.Resolver's Fingerprint); the short
	// fingerprint is its first 12.
	long := key.LongFingerprint()
	fmt.Println(len(long), long[:12] == key.Fingerprint())
	// Output:
	// 64 true
}

func ExampleReplaceTree() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	keys := []*vault.Key{key}
	// Setting "database" would drop its host, port and password: refused.
	err := vault.Update(path, keys, func(tx *vault.Tx) error {
		return tx.Set("database", map[string]any{"url": "postgres://db.example.com/app"})
	})
	fmt.Println(err != nil)
	// On purpose, the whole object is replaced.
	err = vault.Update(path, keys, func(tx *vault.Tx) error {
		return tx.Set("database", map[string]any{"url": "postgres://db.example.com/app"}, vault.ReplaceTree())
	})
	if err != nil {
		log.Fatal(err)
	}
	v, _ := vault.Open(path, keys)
	fmt.Println(v.Paths())
	// Output:
	// true
	// [database.url deploy.replicas]
}

func ExampleWithNoClobber() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	// Only create: a vault already there is kept, whatever its key.
	err := vault.Seal(path, map[string]any{}, key, vault.WithNoClobber())
	fmt.Println(errors.Is(err, fs.ErrExist))
	// Output:
	// true
}

func ExampleWithReplaceAny() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "credentials.enc")
	// A plaintext JSON file where the vault should be: Seal refuses to
	// replace what is not a vault...
	os.WriteFile(path, []byte(`{"token": "fake"}`), 0o600)
	err := vault.Seal(path, map[string]any{"token": "fake"}, vault.GenerateKey())
	fmt.Println(errors.Is(err, fs.ErrExist))
	// ...unless told to, once the file has been checked.
	err = vault.Seal(path, map[string]any{"token": "fake"}, vault.GenerateKey(), vault.WithReplaceAny())
	fmt.Println(err)
	// Output:
	// true
	// <nil>
}
