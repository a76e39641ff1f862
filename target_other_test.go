//go:build !unix

package vault

import "testing"

func mkfifo(t *testing.T, dir, path string) string {
	t.Skip("no named pipes here")
	return ""
}
