package vault

import (
	"strings"
	"testing"
)

// assertNoLeak fails the test when text, captured from where (an error, a
// log line, a command's output), contains any of the secrets. Secrets
// shorter than 4 bytes are skipped: they occur in ordinary text by chance.
func assertNoLeak(t testing.TB, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(text, s) {
			t.Errorf("%s contains a secret (%d bytes at offset %d)", where, len(s), strings.Index(text, s))
		}
	}
}
