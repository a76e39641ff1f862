package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEPipelines checks that the README's pipeline snippets hold the
// command lines that testdata/script/pipelines.txtar runs, so that the two
// cannot drift apart unnoticed.
func TestREADMEPipelines(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("testdata/script/pipelines.txtar")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`credvault env -prefix DEPLOY_ -format github -audit "$RUNNER_TEMP/audit.jsonl"`,
		`eval "$(credvault env -prefix DEPLOY_ -format gitlab)"`,
		`./credvault exec -prefix DEPLOY_ -- ./deploy.sh`,
		`~/bin/credvault exec -prefix DEPLOY_ -- ./deploy.sh`,
		`credvault" env -prefix DEPLOY_ -format azure`,
	} {
		if !strings.Contains(string(readme), line) {
			t.Errorf("the README lacks %q", line)
		}
		if !strings.Contains(string(script), line) {
			t.Errorf("pipelines.txtar does not run %q", line)
		}
	}
	if n := strings.Count(string(readme), "github.com/credvault/vault/example/credvault@latest"); n < 6 {
		t.Errorf("%d snippets install credvault, want 6", n)
	}
}
