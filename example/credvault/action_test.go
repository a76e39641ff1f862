package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/credvault/vault/internal/githubenv"
	"gopkg.in/yaml.v3"
)

// githubAction is the part of action.yml that the runner reads.
type githubAction struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionStep struct {
	Name  string            `yaml:"name"`
	ID    string            `yaml:"id"`
	If    string            `yaml:"if"`
	Uses  string            `yaml:"uses"`
	Shell string            `yaml:"shell"`
	Run   string            `yaml:"run"`
	Env   map[string]string `yaml:"env"`
	With  map[string]string `yaml:"with"`
}

// A simulatedJob runs the action's steps as the GitHub Actions runner
// would on Linux, in a temporary workspace: each run: script with bash
// -eo pipefail, its env: block evaluated, $GITHUB_ENV, $GITHUB_PATH and
// $GITHUB_OUTPUT fresh for each step and applied after it by the runner's
// rules. actions/setup-go is checked and skipped (Go is here);
// actions/upload-artifact copies the file into artifacts/.
type simulatedJob struct {
	t         *testing.T
	workspace string
	temp      string // $RUNNER_TEMP
	env       map[string]string
	actionRef string                       // github.action_ref: the ref in uses: credvault/vault@REF
	outputs   map[string]map[string]string // steps.ID.outputs
	log       strings.Builder              // what the job's log shows
}

func newSimulatedJob(t *testing.T) *simulatedJob {
	dir := t.TempDir()
	j := &simulatedJob{
		t:         t,
		workspace: filepath.Join(dir, "work"),
		temp:      filepath.Join(dir, "temp"),
		actionRef: "v1.4.2",
		outputs:   map[string]map[string]string{},
	}
	for _, d := range []string{j.workspace, j.temp, filepath.Join(dir, "artifacts")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// A PATH with Go and the system's tools, and no credvault: the action
	// must install its own.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	j.env = map[string]string{
		"PATH": filepath.Dir(goBin) + ":/usr/local/bin:/usr/bin:/bin", "HOME": os.Getenv("HOME"),
		"GOPATH": os.Getenv("GOPATH"), "GOCACHE": os.Getenv("GOCACHE"), "GOMODCACHE": os.Getenv("GOMODCACHE"),
		"GOFLAGS": os.Getenv("GOFLAGS"), "GOTOOLCHAIN": "local", "GOPROXY": "off",
		"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "1658821493", "GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_JOB": "deploy", "GITHUB_REPOSITORY": "octo-org/octo-repo", "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_WORKSPACE": j.workspace, "RUNNER_TEMP": j.temp, "RUNNER_NAME": "GitHub Actions 2", "RUNNER_OS": "Linux",
	}
	// The action's own checkout: this repository.
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	j.env["GITHUB_ACTION_PATH"] = root
	return j
}

// useAction runs action.yml's steps with the inputs given (the others at
// their defaults) and stepEnv (the env: block of the step that uses the
// action), and reports whether they all succeeded.
func (j *simulatedJob) useAction(inputs, stepEnv map[string]string) bool {
	t := j.t
	data, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var action githubAction
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if action.Runs.Using != "composite" {
		t.Fatalf("action.yml runs using %q, want composite", action.Runs.Using)
	}
	in := map[string]string{}
	for name, input := range action.Inputs {
		in[name] = input.Default
	}
	for name, value := range inputs {
		if _, ok := action.Inputs[name]; !ok {
			t.Fatalf("action.yml has no input %q", name)
		}
		in[name] = value
	}
	failed := false
	for _, step := range action.Runs.Steps {
		if step.If != "" && !j.condition(step.If, in, failed) || step.If == "" && failed {
			continue
		}
		ok := true
		switch {
		case step.Run != "":
			ok = j.runStep(step, in, stepEnv)
		case strings.HasPrefix(step.Uses, "actions/setup-go@"):
			if step.With["cache"] != "true" {
				t.Errorf("setup-go runs without its module cache")
			}
			if sum := j.eval(step.With["cache-dependency-path"], in); filepath.Dir(sum) != j.env["GITHUB_ACTION_PATH"] || filepath.Base(sum) != "go.sum" {
				t.Errorf("setup-go's cache is keyed on %s, want the action's go.sum", sum)
			}
		case strings.HasPrefix(step.Uses, "actions/upload-artifact@"):
			name, path := j.eval(step.With["name"], in), j.eval(step.With["path"], in)
			if content, err := os.ReadFile(path); err == nil {
				if err := os.WriteFile(filepath.Join(j.temp, "..", "artifacts", name), content, 0o600); err != nil {
					t.Fatal(err)
				}
			} else if step.With["if-no-files-found"] != "ignore" {
				ok = false
			}
		default:
			t.Fatalf("the simulated runner cannot run step %q (uses %s)", step.Name, step.Uses)
		}
		failed = failed || !ok
	}
	return !failed
}

// runStep runs a run: step; it reports whether it exited 0.
func (j *simulatedJob) runStep(step actionStep, in, stepEnv map[string]string) bool {
	t := j.t
	if step.Shell != "bash" {
		t.Fatalf("step %q: shell %q, want bash (a composite step must name one)", step.Name, step.Shell)
	}
	if strings.Contains(step.Run, "${{") {
		t.Errorf("step %q pastes an expression into its script: pass it through env:", step.Name)
	}
	files := map[string]string{}
	for _, f := range []string{"GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT"} {
		files[f] = filepath.Join(j.temp, strings.ToLower(f)+"_"+step.Name)
		if err := os.WriteFile(files[f], nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(j.temp, "step.sh")
	if err := os.WriteFile(script, []byte(step.Run), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	cmd.Dir = j.workspace
	env := map[string]string{}
	for k, v := range j.env {
		env[k] = v
	}
	for k, v := range stepEnv {
		env[k] = v
	}
	for k, v := range step.Env {
		env[k] = j.eval(v, in)
	}
	for k, v := range files {
		env[k] = v
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = &j.log, &j.log
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}

	// What the runner does after the step.
	vars, _, perr := githubenv.Parse(readFile(t, files["GITHUB_ENV"]))
	if perr != nil {
		t.Fatalf("step %q: $GITHUB_ENV: %v", step.Name, perr)
	}
	for k, v := range vars {
		j.env[k] = v
	}
	for _, p := range strings.Fields(readFile(t, files["GITHUB_PATH"])) {
		j.env["PATH"] = p + string(os.PathListSeparator) + j.env["PATH"]
	}
	outputs, _, perr := githubenv.Parse(readFile(t, files["GITHUB_OUTPUT"]))
	if perr != nil {
		t.Fatalf("step %q: $GITHUB_OUTPUT: %v", step.Name, perr)
	}
	if step.ID != "" {
		j.outputs[step.ID] = outputs
	}
	return err == nil
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// eval replaces the ${{ }} expressions in s: the contexts the action uses,
// nothing more, so that a new kind of expression fails here first.
func (j *simulatedJob) eval(s string, in map[string]string) string {
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		return j.value(expression.FindStringSubmatch(m)[1], in)
	})
}

func (j *simulatedJob) value(expr string, in map[string]string) string {
	parts := strings.Split(expr, ".")
	switch {
	case len(parts) == 2 && parts[0] == "inputs":
		if v, ok := in[parts[1]]; ok {
			return v
		}
	case expr == "github.action_path":
		return j.env["GITHUB_ACTION_PATH"]
	case expr == "github.action_ref":
		return j.actionRef
	case expr == "runner.temp":
		return j.temp
	case len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs":
		return j.outputs[parts[1]][parts[3]]
	}
	j.t.Fatalf("the simulated runner cannot evaluate ${{ %s }}", expr)
	return ""
}

// condition evaluates an if: of the forms the action uses: terms joined by
// &&, each always(), or X == 'v', or X != 'v'. Without always(), a step
// runs only if no earlier one failed.
func (j *simulatedJob) condition(cond string, in map[string]string, failed bool) bool {
	always := false
	for _, term := range strings.Split(cond, "&&") {
		term = strings.TrimSpace(term)
		if term == "always()" {
			always = true
			continue
		}
		var ok bool
		if a, b, found := strings.Cut(term, " == "); found {
			ok = j.value(a, in) == strings.Trim(b, "'")
		} else if a, b, found := strings.Cut(term, " != "); found {
			ok = j.value(a, in) != strings.Trim(b, "'")
		} else {
			j.t.Fatalf("the simulated runner cannot evaluate if: %s", cond)
		}
		if !ok {
			return false
		}
	}
	return always || !failed
}

// runUserStep runs a later step of the user's job, with what the action
// left in the job's environment.
func (j *simulatedJob) runUserStep(script string) string {
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Dir = j.workspace
	for k, v := range j.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		j.t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

// actionJob makes a job whose workspace holds a vault, and the step env
// that gives the action the key from a secret.
func actionJob(t *testing.T) (*simulatedJob, map[string]string) {
	j := newSimulatedJob(t)
	vault, err := os.ReadFile("testdata/probe-2017.enc") // database.host, database.password
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(j.workspace, "credentials.enc"), vault, 0o600); err != nil {
		t.Fatal(err)
	}
	deploy := "#!/bin/sh\necho \"deploying to $DEPLOY_DATABASE_HOST with $DEPLOY_DATABASE_PASSWORD\"\nexit \"${DEPLOY_STATUS:-0}\"\n"
	if err := os.WriteFile(filepath.Join(j.workspace, "deploy.sh"), []byte(deploy), 0o700); err != nil {
		t.Fatal(err)
	}
	return j, map[string]string{"MASTER_KEY": probeKey}
}

// auditRecords returns the records the job kept as an artifact.
func (j *simulatedJob) auditRecords(name string) []map[string]any {
	t := j.t
	data, err := os.ReadFile(filepath.Join(j.temp, "..", "artifacts", name))
	if err != nil {
		t.Fatalf("no audit artifact %s: %v\nlog:\n%s", name, err, j.log.String())
	}
	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit record %q: %v", line, err)
		}
		records = append(records, r)
	}
	return records
}

func TestActionExportsToLaterSteps(t *testing.T) {
	j, stepEnv := actionJob(t)
	if !j.useAction(map[string]string{"prefix": "DEPLOY_"}, stepEnv) {
		t.Fatalf("the action failed:\n%s", j.log.String())
	}
	log := j.log.String()
	// The action's copy has no git history: the build says its ref.
	for _, want := range []string{`(?m)^credvault v1\.4\.2$`, `(?m)^::add-mask::s3cret!P@ss$`, `(?m)^::add-mask::db\.example\.com$`} {
		if !regexp.MustCompile(want).MatchString(log) {
			t.Errorf("the log lacks %s:\n%s", want, log)
		}
	}
	if out := j.runUserStep("./deploy.sh"); out != "deploying to db.example.com with s3cret!P@ss\n" {
		t.Errorf("the next step sees %q", out)
	}
	if _, ok := j.env["MASTER_KEY"]; ok {
		t.Errorf("the key reached the job's environment")
	}
	records := j.auditRecords("credvault-audit-deploy-GitHub_Actions_2-1")
	ops := []string{}
	for _, r := range records {
		ops = append(ops, r["op"].(string))
		if p, _ := r["pipeline"].(map[string]any); p["platform"] != "github-actions" || p["run_id"] != "1658821493" {
			t.Errorf("a record without the run: %v", r)
		}
	}
	if !slices.Equal(ops, []string{"open", "export"}) {
		t.Errorf("audit records of %v, want open and export", ops)
	}
}

func TestActionRunsACommand(t *testing.T) {
	j, stepEnv := actionJob(t)
	stepEnv["DEPLOY_STATUS"] = "3"
	inputs := map[string]string{"command": "./deploy.sh production", "prefix": "DEPLOY_", "audit-artifact": "deploy-audit"}
	if j.useAction(inputs, stepEnv) {
		t.Errorf("the action succeeded, though its command exited 3")
	}
	log := j.log.String()
	if !strings.Contains(log, "deploying to *** with ***\n") {
		t.Errorf("the command's output is not masked:\n%s", log)
	}
	if strings.Contains(log, "s3cret") {
		t.Errorf("the log shows a secret:\n%s", log)
	}
	if _, ok := j.env["DEPLOY_DATABASE_PASSWORD"]; ok {
		t.Errorf("exec exported the secrets to the job")
	}
	// The failed deploy is audited, and its records kept.
	if records := j.auditRecords("deploy-audit"); records[len(records)-1]["op"] != "exec" {
		t.Errorf("the last record is not the exec: %v", records)
	}
}

// TestActionCommandStopsAtAFailure: the command runs as a run: step does,
// under bash -eo pipefail: a failing pipe stage fails the line (pipefail),
// and a failing line the step (-e), so "deployed" is never printed.
func TestActionCommandStopsAtAFailure(t *testing.T) {
	j, stepEnv := actionJob(t)
	stepEnv["DEPLOY_STATUS"] = "3"
	if j.useAction(map[string]string{"command": "./deploy.sh | cat\necho deployed", "prefix": "DEPLOY_", "audit-artifact": "none"}, stepEnv) {
		t.Errorf("the action succeeded, though its command's first line failed")
	}
	if log := j.log.String(); strings.Contains(log, "deployed\n") || !strings.Contains(log, "deploying to *** with ***") {
		t.Errorf("the command did not stop at its failing line:\n%s", log)
	}
}

func TestActionKeyFingerprint(t *testing.T) {
	j, stepEnv := actionJob(t)
	if j.useAction(map[string]string{"key-fingerprint": "000000000000", "audit-artifact": "none"}, stepEnv) {
		t.Errorf("the action opened a vault sealed with another key than the pinned one")
	}
	if log := j.log.String(); !strings.Contains(log, "pinned fingerprint 000000000000") || strings.Contains(log, "::add-mask::") {
		t.Errorf("log:\n%s", log)
	}
	j, stepEnv = actionJob(t)
	if !j.useAction(map[string]string{"key-fingerprint": "8343ee68f937", "audit-artifact": "none"}, stepEnv) {
		t.Errorf("the action refused the pinned key:\n%s", j.log.String())
	}
}

func TestActionRefusesAFormatThatPrints(t *testing.T) {
	j, stepEnv := actionJob(t)
	if j.useAction(map[string]string{"format": "shell", "audit-artifact": "none"}, stepEnv) {
		t.Errorf("the action printed the secrets with format shell")
	}
	if log := j.log.String(); strings.Contains(log, "s3cret") || !strings.Contains(log, "would print the secrets in this step's log") {
		t.Errorf("log:\n%s", log)
	}
	if entries, _ := os.ReadDir(filepath.Join(j.temp, "..", "artifacts")); len(entries) > 0 {
		t.Errorf("audit-artifact none uploaded %v", entries)
	}
}
