package main

import (
	goversion "go/version"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
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
		`credvault exec -prefix DEPLOY_ -- ./deploy.sh`,
		`vars="$(credvault env -prefix DEPLOY_)"`,
		`eval "$vars"; unset vars`,
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
	// No recipe hides a failing credvault: the only eval in the README's
	// code is that of a variable assigned under set -e, and GitLab, which
	// cannot mask at run time, runs the deploy under exec.
	inCode, inCI := false, false
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			inCI = inCode && (line == "```yaml" || line == "```groovy")
			continue
		}
		// A CI recipe never prints a value into the job's log.
		if inCI && (strings.Contains(line, "credvault get") || strings.Contains(line, "credvault show")) {
			t.Errorf("a CI recipe prints secrets into the job's log: %q", line)
		}
		// Elsewhere, get and show are shown for a terminal.
		if inCode && !inCI && regexp.MustCompile(`^credvault (get|show)\b`).MatchString(line) && !strings.Contains(line, "terminal") {
			t.Errorf("the README runs get or show without saying they are for a terminal: %q", line)
		}
		if inCode && strings.Contains(line, "eval ") && strings.TrimSpace(line) != `eval "$vars"; unset vars` {
			t.Errorf("the README's code evals a command's output, which hides its failure: %q", line)
		}
		if inCode && strings.Contains(line, "-format gitlab") {
			t.Errorf("the README exports into a GitLab job's shell, unmasked: %q", line)
		}
	}
}

// TestREADMEGitAndEnvironments checks that the command lines of the
// README's environment and git sections are run by the scripts named.
func TestREADMEGitAndEnvironments(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ line, script string }{
		{`printf %s "$DB_PASSWORD" | credvault set -env prod database.password`, "environments_ci.txtar"},
		{`CREDVAULT_ENV=prod credvault get database.password`, "environments_ci.txtar"},
		{`export MASTER_KEY_PROD="$(cat credentials.prod.key)"`, "environments_ci.txtar"},
		{`credvault env -prefix DEPLOY_ -format github`, "environments_ci.txtar"},
		{`credvault exec -prefix DEPLOY_ -- ./deploy.sh`, "environments_ci.txtar"},
		{`credvault init -env prod`, "init.txtar"},
		{`credvault git-setup`, "git_merge.txtar"},
		{`git diff HEAD~1 -- credentials.enc`, "git_diff.txtar"},
		{`git checkout -m credentials.enc`, "git_markers.txtar"},
		{`credvault merge: CONFLICT in credentials.enc at database.password: ours changed, theirs changed`, "git_merge.txtar"},
	} {
		script, err := os.ReadFile("testdata/script/" + tt.script)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), tt.line) {
			t.Errorf("the README lacks %q", tt.line)
		}
		if !strings.Contains(string(script), tt.line) {
			t.Errorf("%s does not run %q", tt.script, tt.line)
		}
	}
}

// TestREADMEAction checks the README's use of the GitHub Action against
// action.yml: each input it passes exists, and its list names every input.
func TestREADMEAction(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var action githubAction
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatal(err)
	}
	use := regexp.MustCompile("(?s)uses: credvault/vault@.*?```").Find(readme)
	if use == nil {
		t.Fatal("the README does not use the action")
	}
	with := regexp.MustCompile(`(?m)^\s+with:\n((?:\s+[a-z-]+: .*\n)+)`).FindSubmatch(use)
	if with == nil {
		t.Fatalf("the README's use of the action has no with: block:\n%s", use)
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+([a-z-]+):`).FindAllSubmatch(with[1], -1) {
		if _, ok := action.Inputs[string(m[1])]; !ok {
			t.Errorf("the README passes input %s, which action.yml does not have", m[1])
		}
	}
	list := regexp.MustCompile("(?s)Its inputs: (.*?)\n\n").FindSubmatch(readme)
	if list == nil {
		t.Fatal(`the README does not list the action's inputs ("Its inputs: ...")`)
	}
	for name := range action.Inputs {
		if !strings.Contains(string(list[1]), "`"+name+"`") {
			t.Errorf("the README's list of inputs lacks %s", name)
		}
	}
}

// TestREADMEGoImages checks that each Go image of the README's recipes
// (golang:TAG, cimg/go:TAG) has a Go at least as new as go.mod needs: the
// official images set GOTOOLCHAIN=local, so an older one cannot install
// credvault at all.
func TestREADMEGoImages(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	need := "go" + string(m[1])
	images := regexp.MustCompile(`\b(golang|cimg/go):(\S+?)["'}\s]`).FindAllSubmatch(readme, -1)
	if len(images) < 3 {
		t.Errorf("the README names %d Go images, want the GitLab and CircleCI recipes' at least", len(images))
	}
	for _, image := range images {
		tag, _, _ := strings.Cut(string(image[2]), "-") // 1.26-alpine
		have := "go" + tag
		if !goversion.IsValid(have) {
			t.Errorf("the README's image %s:%s has no Go version in its tag", image[1], image[2])
			continue
		}
		// A tag of a minor version (golang:1.24) is its newest release.
		if strings.Count(tag, ".") == 1 {
			have, need := goversion.Lang(have), goversion.Lang(need)
			if goversion.Compare(have, need) < 0 {
				t.Errorf("the README's image %s:%s has Go %s, older than the %s go.mod needs", image[1], image[2], have, need)
			}
		} else if goversion.Compare(have, need) < 0 {
			t.Errorf("the README's image %s:%s has Go %s, older than the %s go.mod needs", image[1], image[2], have, need)
		}
	}
}
