package vaulttest_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/credvault/vault"
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
}

func (t *exampleTB) Helper() {}
func (t *exampleTB) TempDir() string {
	dir, err := os.MkdirTemp("", "vaulttest-example-")
	if err != nil {
		panic(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
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
func (t *exampleTB) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (t *exampleTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleTB) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
