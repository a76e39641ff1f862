package vault_test

import (
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"

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

// A deploy tool that carries its vault inside its binary: the file is
// embedded at build time, the key comes from the environment at run time.
//
//go:embed testdata/embed/credentials.enc
var deployFiles embed.FS

func ExampleOpenFS() {
	// In the tool: keys, err := vault.ParseKeyring(os.Getenv("MASTER_KEY")).
	// This example's vault was sealed with the Fernet spec's (public) test key.
	keys, err := vault.ParseKeyring(exampleKeyring())
	if err != nil {
		log.Fatal(err)
	}
	v, err := vault.OpenFS(deployFiles, "testdata/embed/credentials.enc", keys)
	if err != nil {
		log.Fatal(err)
	}
	region, _ := v.Get("deploy.region")
	fmt.Println(region, v.Len())
	// Output:
	// eu-west-1 2
}

func exampleKeyring() string {
	if k := os.Getenv("EXAMPLE_MASTER_KEY"); k != "" {
		return k
	}
	return "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
}

func ExampleRotate() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "credentials.enc")
	oldKey, newKey := vault.GenerateKey(), vault.GenerateKey()
	vault.Seal(path, map[string]any{"token": "fake"}, oldKey)

	// 1. MASTER_KEY="new,old": pipelines open the vault with the old key.
	ring := []*vault.Key{newKey, oldKey}
	v, _ := vault.Open(path, ring)
	fmt.Println("before: opened by key", v.KeyIndex())

	// 2. Rotate: re-sealed under the new key, verified before it replaces the file.
	if err := vault.Rotate(path, ring, newKey); err != nil {
		log.Fatal(err)
	}
	v, _ = vault.Open(path, ring)
	fmt.Println("after: opened by key", v.KeyIndex())

	// 3. The old key can go.
	_, err := vault.Open(path, []*vault.Key{oldKey})
	fmt.Println(errors.Is(err, vault.ErrWrongKey))
	// Output:
	// before: opened by key 1
	// after: opened by key 0
	// true
}

func ExampleFlatten() {
	secrets := map[string]any{
		"database": map[string]any{"host": "db.example.com", "port": 5432},
		"hosts":    []any{"a.example", "b.example"},
		"api-key":  "fake",
	}
	vars, err := vault.Flatten(secrets, "APP_")
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for name := range vars {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Printf("%s=%s\n", name, vars[name])
	}
	_, err = vault.Flatten(map[string]any{"a_b": "x", "a": map[string]any{"b": "y"}}, "")
	fmt.Println(err)
	// Output:
	// APP_API_KEY=fake
	// APP_DATABASE_HOST=db.example.com
	// APP_DATABASE_PORT=5432
	// APP_HOSTS_0=a.example
	// APP_HOSTS_1=b.example
	// vault: flatten: "a.b" and "a_b" both become the variable A_B: rename one of the keys, or flatten below one of them (FromPath, -path)
}

func ExampleNewRedactor() {
	r := vault.NewRedactor(os.Stdout, "s3cret!P@ss")
	// A secret is masked even when it arrives in pieces, and in its
	// base64 and URL-escaped forms.
	fmt.Fprint(r, "connecting with s3cr")
	fmt.Fprint(r, "et!P@ss\n")
	fmt.Fprintf(r, "basic auth %s\n", base64.StdEncoding.EncodeToString([]byte("s3cret!P@ss")))
	fmt.Fprintf(r, "url ?password=%s\n", url.QueryEscape("s3cret!P@ss"))
	r.Close()
	// Output:
	// connecting with ***
	// basic auth ***
	// url ?password=***
}

func ExampleNewSlogAuditor() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "credentials.enc")
	key := vault.GenerateKey()
	vault.Seal(path, map[string]any{"db": map[string]any{"password": "fake"}}, key)

	// Records as JSON lines; the time and the key are left out of this
	// example's output only to make it stable.
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == "time" || a.Key == "key" || a.Key == "value_fp" || a.Key == "vault" {
				return slog.Attr{}
			}
			return a
		},
	}))
	v, err := vault.Open(path, []*vault.Key{key},
		vault.WithAuditor(vault.NewSlogAuditor(logger)),
		vault.WithKeySource("MASTER_KEY"),
		vault.WithPipeline(vault.Pipeline{Platform: "github-actions", RunID: "1658821493"}))
	if err != nil {
		log.Fatal(err)
	}
	v.Get("db.password")
	// Output:
	// {"level":"INFO","msg":"credvault audit","op":"open","key_index":0,"key_source":"MASTER_KEY","pipeline":{"platform":"github-actions","run_id":"1658821493"},"outcome":"ok"}
	// {"level":"INFO","msg":"credvault audit","op":"get","path":"db.password","key_index":0,"key_source":"MASTER_KEY","pipeline":{"platform":"github-actions","run_id":"1658821493"},"outcome":"ok"}
}
