package vaulttest_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/vaulttest"
)

// connectionString is the code under test: it reads its keyring from
// MASTER_KEY and its secrets from the vault at path.
func connectionString(path string) (string, error) {
	keys, err := vault.ParseKeyring(os.Getenv("MASTER_KEY"))
	if err != nil {
		return "", err
	}
	v, err := vault.Open(path, keys)
	if err != nil {
		return "", err
	}
	host, _ := v.Get("db.host")
	user, _ := v.Get("db.user")
	return fmt.Sprintf("postgres://%s@%s", user, host), nil
}

// testConnectionString is what a test of it looks like.
func testConnectionString(t testing.TB) {
	path, keys := vaulttest.New(t, map[string]any{"db": map[string]any{"host": "db.test", "user": "app", "password": "fake"}})
	vaulttest.SetKeyring(t, "MASTER_KEY", keys)
	got, err := connectionString(path)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(got)
}

func ExampleNew() {
	runAsTest(testConnectionString)
	// Output:
	// postgres://app@db.test
}

// testDeployEnv shows Setenv: the code under test reads its secrets from
// the environment, as under `credvault exec -prefix DEPLOY_`.
func testDeployEnv(t testing.TB) {
	v := vaulttest.Open(t, map[string]any{"api": map[string]any{"token": "fake-token"}})
	vaulttest.Setenv(t, v, "DEPLOY_")
	fmt.Println(os.Getenv("DEPLOY_API_TOKEN"))
}

func ExampleSetenv() {
	runAsTest(testDeployEnv)
	// Output:
	// fake-token
}

// renderGreeting is code under test whose output goes in a golden file.
func renderGreeting(v *vault.Vault) string {
	host, _ := v.Get("db.host")
	return "connect to " + host
}

func ExampleFixedKey() {
	// testdata/golden.enc was sealed once with the fixed key (here, by
	// Python's Fernet) and committed; every run opens it.
	v, err := vault.Open("testdata/golden.enc", []*vault.Key{vaulttest.FixedKey()})
	if err != nil {
		panic(err)
	}
	fmt.Println(renderGreeting(v))
	// Output:
	// connect to db.test
}

// openEmbedded is code under test that opens the vault its binary embeds;
// it takes an fs.FS so that a test can give it another.
func openEmbedded(files fs.FS, keys []*vault.Key) (string, error) {
	v, err := vault.OpenFS(files, "credentials.enc", keys)
	if err != nil {
		return "", err
	}
	return v.Get("api.token")
}

func ExampleFS() {
	runAsTest(func(t testing.TB) {
		files, keys := vaulttest.FS(t, map[string]any{"api": map[string]any{"token": "fake-embedded"}})
		token, err := openEmbedded(files, keys)
		fmt.Println(token, err)
	})
	// Output:
	// fake-embedded <nil>
}

func ExampleNewWithRecipient() {
	runAsTest(func(t testing.TB) {
		path, identity := vaulttest.NewWithRecipient(t, map[string]any{"db": map[string]any{"password": "fake-age"}})
		// The code under test finds the key as a pipeline does.
		t.Setenv("CREDVAULT_AGE_KEY", identity)
		res := &custody.Resolver{Getenv: os.Getenv}
		kr, err := res.Resolve(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := vault.Open(path, kr.Keys)
		password, _ := v.Get("db.password")
		fmt.Println(kr.Route.Kind, password)
	})
	// Output:
	// age fake-age
}

func ExampleCheckNoLeaks() {
	runAsTest(func(t testing.TB) {
		v := vaulttest.Open(t, map[string]any{"db": map[string]any{"password": "fake-pass-1"}})
		vaulttest.CheckNoLeaks(t, "the log", []byte("connected as app\n"), v)
		// The base64 of the password is a leak too.
		vaulttest.CheckNoLeaks(t, "the log", []byte("auth ZmFrZS1wYXNzLTE=\n"), v)
	})
	// Output:
	// FAIL: vaulttest: the log holds a secret of $TMP/credentials.enc, at byte 5
}

func ExampleRun() {
	runAsTest(func(t testing.TB) {
		v := vaulttest.Open(t, map[string]any{"api": map[string]any{"token": "fake-run-token"}})
		stdout, _, err := vaulttest.Run(t, v, &vault.Command{
			Args:   []string{"sh", "-c", `echo "deploying with $APP_API_TOKEN"`},
			Env:    []string{"PATH=/usr/bin:/bin"},
			Prefix: "APP_",
		})
		fmt.Print(stdout)
		fmt.Println(err)
	})
	// Output:
	// deploying with ***
	// <nil>
}

// runAsTest runs fn as a test does, for the examples: testing.TB cannot be
// made outside a test, so this one does the few things the helpers need.
func runAsTest(fn func(t testing.TB)) {
	t := &exampleTB{}
	defer t.cleanup()
	fn(t)
}

type exampleTB struct {
	testing.TB // not set: calling anything but what is below panics
	cleanups   []func()
	dirs       []string // from TempDir, written $TMP in messages
}

func (t *exampleTB) Helper() {}
func (t *exampleTB) TempDir() string {
	dir, err := os.MkdirTemp("", "vaulttest-example-")
	if err != nil {
		panic(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.dirs = append(t.dirs, dir)
	return dir
}
func (t *exampleTB) Setenv(key, value string) {
	old, had := os.LookupEnv(key)
	os.Setenv(key, value)
	t.Cleanup(func() {
		if had {
			os.Setenv(key, old)
		} else {
			os.Unsetenv(key)
		}
	})
}
func (t *exampleTB) Cleanup(f func())  { t.cleanups = append(t.cleanups, f) }
func (t *exampleTB) Fatal(args ...any) { panic(fmt.Sprint(args...)) }
func (t *exampleTB) Errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, dir := range t.dirs {
		msg = strings.ReplaceAll(msg, dir, "$TMP")
	}
	fmt.Println("FAIL:", msg)
}
func (t *exampleTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleTB) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
