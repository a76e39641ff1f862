package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestVersionText(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	checkout := &debug.BuildInfo{
		GoVersion: "go1.26.1",
		Main:      debug.Module{Path: "github.com/credvault/vault", Version: "v0.0.0-20261125100000-670c79f63471+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "windows"},
			{Key: "GOARCH", Value: "arm64"},
			{Key: "vcs.revision", Value: "670c79f6347152c29e38e9d3a8a1bb45bcf81f82"},
			{Key: "vcs.time", Value: "2026-11-25T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	installed := &debug.BuildInfo{
		GoVersion: "go1.26.1",
		Main:      debug.Module{Path: "github.com/credvault/vault", Version: "v1.2.3"},
	}
	for _, tt := range []struct {
		name    string
		info    *debug.BuildInfo
		release string
		want    string
	}{
		{"checkout", checkout, "",
			"credvault v0.0.0-20261125100000-670c79f63471+dirty\n" +
				"revision 670c79f6347152c29e38e9d3a8a1bb45bcf81f82 (2026-11-25T10:00:00Z) dirty\n" +
				"built with go1.26.1 for windows/arm64\n"},
		{"release build", checkout, "v1.2.3",
			"credvault v1.2.3\n" +
				"revision 670c79f6347152c29e38e9d3a8a1bb45bcf81f82 (2026-11-25T10:00:00Z) dirty\n" +
				"built with go1.26.1 for windows/arm64\n"},
		{"go install @v1.2.3", installed, "",
			"credvault v1.2.3\nbuilt with go1.26.1 for " + platform + "\n"},
		{"no build information", nil, "",
			"credvault (devel)\nbuilt with " + runtime.Version() + " for " + platform + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionText(tt.info, tt.release); got != tt.want {
				t.Errorf("versionText() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestNearestCommand(t *testing.T) {
	for _, tt := range []struct{ typed, want string }{
		{"gte", "get"},   // a swap
		{"sael", "seal"}, // a swap
		{"sta", "status"},
		{"exe", "exec"},
		{"rotat", "rotate"},
		{"txtconv", "textconv"},
		{"versoin", "version"},
		{"deploy", ""},
		{"x", ""},
		{"__complete", ""},
	} {
		if got := nearest(tt.typed); got != tt.want {
			t.Errorf("nearest(%q) = %q, want %q", tt.typed, got, tt.want)
		}
	}
}
