// Package release holds the test of release/build.sh.
package release

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// reproPlatform and reproTags are what is built twice: Windows, so that
// the .exe path is exercised, as the AWS-only CLI, whose packages .ci/run's
// cross-vet has already compiled with -trimpath, so that only the links are
// new (the other clouds' SDKs would take minutes to compile for Windows).
const (
	reproPlatform = "windows/amd64"
	reproTags     = "credvault_nogcpkms,credvault_noazurekeyvault,credvault_nohashivault"
)

// TestReproducibleBuild clones the committed tree twice, at two different
// paths, builds one platform in each with release/build.sh, and wants the
// same bytes: no path, build ID or time leaks into the binary.
func TestReproducibleBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds credvault twice")
	}
	for _, tool := range []string{"git", "bash", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed: %v", tool, err)
		}
	}
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	top := strings.TrimSpace(string(out))
	head := strings.TrimSpace(run(t, "", "git", "-C", top, "rev-parse", "HEAD"))
	// go test caches a passing result until a file the test opened
	// changes; the builds read the whole tree through git, so stat every
	// tracked file and directory: a change anywhere runs the test again.
	seen := map[string]bool{}
	for _, f := range strings.Split(strings.TrimSpace(run(t, top, "git", "ls-files")), "\n") {
		for p := f; p != "." && !seen[p]; p = filepath.Dir(p) {
			seen[p] = true
			os.Stat(filepath.Join(top, p))
		}
	}

	var outs []string
	for _, name := range []string{"first", "second-with-a-longer-path"} {
		dir := filepath.Join(t.TempDir(), name)
		run(t, "", "git", "clone", "-q", top, dir)
		out := filepath.Join(t.TempDir(), "dist")
		cmd := exec.Command("bash", filepath.Join(dir, "release", "build.sh"), "v0.0.0-repro", out)
		cmd.Env = append(os.Environ(), "PLATFORMS="+reproPlatform, "TAGS="+reproTags)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("release/build.sh: %v\n%s", err, b)
		}
		bin, err := os.ReadFile(filepath.Join(out, "credvault-v0.0.0-repro-windows-amd64.exe"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(bin, []byte(dir)) {
			t.Errorf("the binary holds the path it was built in, %s", dir)
		}
		if !bytes.Contains(bin, []byte("v0.0.0-repro")) {
			t.Errorf("the binary does not hold its version (-X main.version)")
		}
		outs = append(outs, out)
	}

	for _, name := range []string{"credvault-v0.0.0-repro-windows-amd64.exe", "SHA256SUMS"} {
		a, errA := os.ReadFile(filepath.Join(outs[0], name))
		b, errB := os.ReadFile(filepath.Join(outs[1], name))
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v, %v", name, errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the two builds", name)
		}
	}

	// The build says what it is: static, trimmed, the commit.
	info := run(t, "", "go", "version", "-m", filepath.Join(outs[0], "credvault-v0.0.0-repro-windows-amd64.exe"))
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath=true", "GOOS=windows", "vcs.revision=" + head, "vcs.modified=false"} {
		if !strings.Contains(info, want) {
			t.Errorf("go version -m lacks %s:\n%s", want, info)
		}
	}
	sums := run(t, outs[0], "sha256sum", "-c", "SHA256SUMS")
	if !strings.Contains(sums, "credvault-v0.0.0-repro-windows-amd64.exe: OK") {
		t.Errorf("sha256sum -c SHA256SUMS:\n%s", sums)
	}
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
