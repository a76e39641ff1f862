// Package localkms starts github.com/nsmithuk/local-kms, the AWS KMS
// emulator LocalStack uses, for tests: built from its module at a pinned
// version into a cache directory (or taken from $CREDVAULT_LOCAL_KMS), run
// on a free port with a seed of keys, and reached on 127.0.0.1 with dummy
// credentials.
package localkms

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Version is the local-kms module version the tests run.
const Version = "v0.0.0-20260228092603-2a5e92d09ab6"

// Module is its module path.
const Module = "github.com/nsmithuk/local-kms"

// Region and Account are those of the keys it serves.
const (
	Region  = "eu-west-2"
	Account = "111122223333"
)

// ARN returns the ARN of the key with the given ID.
func ARN(id string) string { return "arn:aws:kms:" + Region + ":" + Account + ":key/" + id }

// A Server is a running local-kms.
type Server struct {
	// Endpoint is its URL, http://127.0.0.1:PORT.
	Endpoint string
}

// Env returns the environment that points the AWS SDK at the server:
// dummy credentials, the region, AWS_ENDPOINT_URL_KMS, and no instance
// metadata lookups.
func (s *Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKEFAKE",
		"AWS_SECRET_ACCESS_KEY=fake-secret-access-key-for-local-kms",
		"AWS_REGION=" + Region,
		"AWS_ENDPOINT_URL_KMS=" + s.Endpoint,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
	}
}

// Setenv sets Env's variables for the test.
func (s *Server) Setenv(t testing.TB) {
	for _, kv := range s.Env() {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
}

// Binary returns the path of the local-kms binary, as Find does. Without
// it, the test is skipped, or fails when $CI is set.
func Binary(t testing.TB) string {
	t.Helper()
	bin, err := Find()
	if err != nil {
		unavailable(t, "%v", err)
	}
	return bin
}

// Find returns the path of the local-kms binary: $CREDVAULT_LOCAL_KMS, or
// one built into the user's cache directory on first use (about a minute
// on two cores; .ci/run builds it up front).
func Find() (string, error) {
	if path := os.Getenv("CREDVAULT_LOCAL_KMS"); path != "" {
		return path, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory to build local-kms in: %v", err)
	}
	dir := filepath.Join(cache, "credvault-test", "local-kms-"+Version)
	bin := filepath.Join(dir, "local-kms")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lock(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil // another test process built it meanwhile
	}
	cmd := exec.Command("go", "install", Module+"@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("cannot build %s@%s: %v\n%s", Module, Version, err, out)
	}
	return bin, nil
}

func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("local-kms: "+format, args...)
	}
	t.Skipf("local-kms: "+format+" (set CI to make this a failure)", args...)
}

var startedRE = regexp.MustCompile(`Local KMS started on [0-9.]+:([0-9]+)`)

// Start runs local-kms with the seed (its YAML seed file format) until the
// test ends, and waits until it listens.
func Start(t testing.TB, seed string) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	seedPath := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(seedPath, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{
		"PORT=0",
		"KMS_REGION=" + Region,
		"KMS_ACCOUNT_ID=" + Account,
		"KMS_DATA_PATH=" + filepath.Join(dir, "data"),
		"KMS_SEED_PATH=" + seedPath,
	}
	logs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		unavailable(t, "cannot start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			if m := startedRE.FindStringSubmatch(sc.Text()); m != nil {
				port <- m[1]
			}
		}
		close(port)
	}()
	select {
	case p, ok := <-port:
		if !ok {
			t.Fatal("local-kms exited before it listened")
		}
		return &Server{Endpoint: "http://127.0.0.1:" + p}
	case <-time.After(30 * time.Second):
		t.Fatal("local-kms did not start within 30s")
	}
	return nil
}

// Seed returns a seed file with AES keys of the given IDs, each with a
// fixed fake backing key.
func Seed(ids ...string) string {
	var b strings.Builder
	b.WriteString("Keys:\n  Symmetric:\n    Aes:\n")
	for i, id := range ids {
		fmt.Fprintf(&b, "      - Metadata:\n          KeyId: %s\n        BackingKeys:\n          - %064x\n", id, i+1)
	}
	return b.String()
}
