package kmshttp

import (
	"strings"
	"testing"
)

func TestMessage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  permission denied\n", "permission denied"},
		{"1 error occurred:\n\t* permission denied\n\n", "1 error occurred:  * permission denied"},
		{"bell\a and \x1b[31mred", "bell  and  [31mred"},
		{"bad \xff byte", "bad   byte"},
		{strings.Repeat("é", 400), strings.Repeat("é", 300) + "..."},
	} {
		if got := Message(tc.in); got != tc.want {
			t.Errorf("Message(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
