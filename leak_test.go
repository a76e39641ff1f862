package vault

import (
	"testing"

	"github.com/credvault/vault/internal/leakcheck"
)

// assertNoLeak is leakcheck.NoSecrets, the suite's one leak check.
func assertNoLeak(t testing.TB, where, text string, secrets ...string) {
	t.Helper()
	leakcheck.NoSecrets(t, where, text, secrets...)
}
