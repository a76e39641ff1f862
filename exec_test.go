package vault

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestRunTooLarge(t *testing.T) {
	key := GenerateKey()
	secrets := map[string]any{}
	// Variables of 100 KiB, each under the per-variable limit, up to more
	// than this system's limit for the whole.
	for i := range execArgLimit()/(100<<10) + 5 {
		secrets[fmt.Sprintf("blob%02d", i)] = strings.Repeat("y", 100<<10-i)
	}
	secrets["small"] = "z"
	v, err := Open(sealPath(t, secrets, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	err = v.Run(context.Background(), &Command{Args: []string{"deploy"}})
	if err == nil {
		t.Fatalf("Run accepted more than %d bytes of environment", execArgLimit())
	}
	for _, says := range []string{"more than the", "bytes the system passes to a program", "the largest are BLOB00 (102408 bytes), BLOB01 (102407 bytes), BLOB02", "-path"} {
		if !strings.Contains(err.Error(), says) {
			t.Errorf("error %q\ndoes not say %q", err, says)
		}
	}
	assertNoLeak(t, "error", err.Error(), strings.Repeat("y", 10))
}

func sealPath(t *testing.T, secrets any, key *Key) string {
	t.Helper()
	path := t.TempDir() + "/v.enc"
	if err := Seal(path, secrets, key); err != nil {
		t.Fatal(err)
	}
	return path
}
