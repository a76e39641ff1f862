// Package leakcheck is the test suite's one check that no secret escapes:
// every test that captures an error, a log line or a command's output runs
// it through NoSecrets with the values and keys of the vault under test.
package leakcheck

import (
	"strings"
	"testing"
)

// NoSecrets fails the test when text, captured from where (an error, a log
// line, a command's output), contains any of the secrets. Secrets shorter
// than 4 bytes are skipped: they occur in ordinary text by chance.
func NoSecrets(t testing.TB, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(text, s) {
			t.Errorf("%s contains a secret (%d bytes at offset %d)", where, len(s), strings.Index(text, s))
		}
	}
}
