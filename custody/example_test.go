package custody_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

// A team seals a vault for its members' age recipients; a member opens it
// with their identity, from $CREDVAULT_AGE_KEY here. No raw key is written
// anywhere.
func ExampleSeal() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "credentials.enc")

	// In real use each person runs age-keygen and shares the public key.
	alice, _ := age.GenerateX25519Identity()
	bob, _ := age.GenerateX25519Identity()
	var recipients []custody.Recipient
	for label, id := range map[string]*age.X25519Identity{"alice": alice, "bob": bob} {
		r, err := custody.NewRecipient(id.Recipient().String(), label, nil)
		if err != nil {
			log.Fatal(err)
		}
		recipients = append(recipients, r)
	}
	ctx := context.Background()
	pin, err := custody.Seal(ctx, path, map[string]any{"database": map[string]any{"password": "fake-s3cret"}}, recipients, nil)
	if err != nil {
		log.Fatal(err)
	}

	// Bob, in a pipeline whose secret store holds his identity.
	env := map[string]string{"CREDVAULT_AGE_KEY": bob.String(), "CREDVAULT_KEY_FINGERPRINT": pin}
	res := &custody.Resolver{Getenv: func(name string) string { return env[name] }}
	kr, err := res.Resolve(ctx, path)
	if err != nil {
		log.Fatal(err)
	}
	v, err := vault.Open(path, kr.Keys, vault.WithKeySource(kr.Route.String()))
	if err != nil {
		log.Fatal(err)
	}
	password, _ := v.Get("database.password")
	fmt.Println(kr.Route)
	fmt.Println(password)
	// Output:
	// age recipient "bob" (identity from $CREDVAULT_AGE_KEY)
	// fake-s3cret
}

// Every way to the key failed: the error says why for each.
func ExampleNoKeyError() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "credentials.enc")
	if err := vault.Seal(path, map[string]any{}, vault.GenerateKey()); err != nil {
		log.Fatal(err)
	}
	res := &custody.Resolver{Getenv: func(string) string { return "" }}
	_, err := res.Resolve(context.Background(), path)
	if nk, ok := err.(*custody.NoKeyError); ok {
		for _, a := range nk.Attempts {
			fmt.Println(strings.ReplaceAll(a.Error(), dir+string(filepath.Separator), ""))
		}
	}
	// Output:
	// $MASTER_KEY is not set
	// no key command: none given, and $CREDVAULT_KEY_CMD is not set
	// credentials.enc.keys does not exist
}
