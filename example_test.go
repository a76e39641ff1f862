package vault_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/credvault/vault"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "credentials.enc")

	// In a pipeline the keyring comes from the environment:
	// keys, err := vault.ParseKeyring(os.Getenv("MASTER_KEY"))
	key := vault.GenerateKey()
	secrets := map[string]any{"database": map[string]any{"host": "db.example.com", "port": 5432, "password": "fake-s3cret"}}
	if err := vault.Seal(path, secrets, key); err != nil {
		log.Fatal(err)
	}

	v, err := vault.Open(path, []*vault.Key{key})
	if err != nil {
		log.Fatal(err)
	}
	password, err := v.Get("database.password")
	if err != nil {
		log.Fatal(err)
	}
	port, _ := v.Get("database.port")
	fmt.Println(password, port)

	_, err = v.Get("database.pasword")
	fmt.Println(err != nil && errors.Is(err, vault.ErrNotFound))
	// Output:
	// fake-s3cret 5432
	// true
}

func ExampleSeal() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "credentials.enc")

	key := vault.GenerateKey() // in real use: saved with vault.SaveKey, kept in a secret store
	err := vault.Seal(path, map[string]any{
		"api_keys": map[string]any{"stripe": "sk_test_fake"},
	}, key)
	if err != nil {
		log.Fatal(err)
	}

	token, _ := os.ReadFile(path)
	info, _ := os.Stat(path)
	// A vault is one Fernet token (version byte 0x80 encodes as "gAAAAA"),
	// written with mode 0600.
	fmt.Printf("%.6s... %v\n", token, info.Mode())
	// Output:
	// gAAAAA... -rw-------
}

func ExampleKey_Fingerprint() {
	key, err := vault.ParseKey("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=") // the Fernet spec's test key
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key.Fingerprint())
	fmt.Printf("%v\n", key) // a Key never prints its secret
	// Output:
	// 8343ee68f937
	// vault.Key(8343ee68f937)
}
