package vault

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"database", []string{"database"}},
		{"database.password", []string{"database", "password"}},
		{`servers.db\.example\.com.password`, []string{"servers", "db.example.com", "password"}},
		{`a\\b.c`, []string{`a\b`, "c"}},
		{`a\\.b`, []string{`a\`, "b"}},
		{`\.\.`, []string{".."}},
		{"hosts.0", []string{"hosts", "0"}},
		{"ключ.ü", []string{"ключ", "ü"}},
		{"a b.c-d", []string{"a b", "c-d"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := parsePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parsePath (-want +got):\n%s", diff)
			}
			if back := formatPath(got); back != tt.path {
				t.Errorf("formatPath(parsePath(%q)) = %q", tt.path, back)
			}
		})
	}
	for _, bad := range []string{"", ".", "a.", ".a", "a..b", `a\`, `a\b`, `\x`} {
		t.Run("bad "+bad, func(t *testing.T) {
			if segs, err := parsePath(bad); err == nil {
				t.Errorf("parsePath(%q) = %q, want an error", bad, segs)
			}
		})
	}
}

func TestParseIndex(t *testing.T) {
	for s, want := range map[string]int{"0": 0, "1": 1, "42": 42} {
		if got, ok := parseIndex(s); !ok || got != want {
			t.Errorf("parseIndex(%q) = %d, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "01", "-1", "+1", "1e3", "x", "99999999999999999999999"} {
		if _, ok := parseIndex(s); ok {
			t.Errorf("parseIndex(%q) succeeded", s)
		}
	}
}
