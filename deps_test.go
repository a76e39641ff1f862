package vault

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// cloudSDKs are the module path prefixes of each cloud's SDK.
var cloudSDKs = map[string][]string{
	"aws":   {"github.com/aws/"},
	"gcp":   {"cloud.google.com/", "google.golang.org/api", "google.golang.org/grpc", "golang.org/x/oauth2/google"},
	"azure": {"github.com/Azure/", "github.com/AzureAD/"},
}

// TestDependencies checks what each package compiles in, as "go list -deps"
// shows it: the root package only fernet-go, the custody core only age,
// and each KMS driver of package custody its own cloud's SDK and no other
// (hashivault none: it speaks Vault's HTTP API with the standard library;
// gcpkms only golang.org/x/oauth2 for its credentials).
// A program that only opens vaults must not pay for clouds. (The drivers
// built on gocloud.dev/secrets get parts of Google's client libraries, gRPC
// and OpenTelemetry with it, whatever their cloud: only awskms, which calls
// the AWS SDK directly, is free of them.)
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the go command is not on $PATH")
		}
		t.Skip("the go command is not on $PATH")
	}
	const ours = "github.com/credvault/vault"
	deps := func(pkg string, flags ...string) []string {
		args := append(append([]string{"list", "-deps"}, flags...), "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg)
		out, err := exec.Command(goTool, args...).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	has := func(dep string, prefixes ...string) bool {
		for _, p := range prefixes {
			if dep == strings.TrimSuffix(p, "/") || strings.HasPrefix(dep, p) || strings.HasPrefix(dep, p+"/") {
				return true
			}
		}
		return false
	}

	// Allow lists: ours (but not the drivers), and these modules.
	// hashivault speaks Transit's HTTP API with the standard library;
	// gcpkms speaks Cloud KMS's REST API, with x/oauth2 for credentials.
	core := []string{"github.com/fernet/fernet-go", "filippo.io/age", "golang.org/x/crypto", "golang.org/x/sys", "golang.org/x/term"}
	for pkg, allow := range map[string][]string{
		ours:                         {"github.com/fernet/fernet-go", "golang.org/x/sys", "golang.org/x/term"},
		ours + "/custody":            core,
		ours + "/custody/hashivault": core,
		ours + "/custody/gcpkms":     append([]string{"golang.org/x/oauth2", "cloud.google.com/go/compute/metadata"}, core...),
	} {
		for _, dep := range deps(pkg) {
			if dep == ours || dep == pkg || has(dep, ours+"/") && !has(dep, ours+"/custody/") || dep == ours+"/custody" || dep == ours+"/custody/internal/kmshttp" || has(dep, allow...) {
				continue
			}
			t.Errorf("%s depends on %s", pkg, dep)
		}
	}
	// Each driver: its own cloud, no other.
	for driver, cloud := range map[string]string{"awskms": "aws", "gcpkms": "gcp", "azurekeyvault": "azure"} {
		pkg := ours + "/custody/" + driver
		own := false
		for _, dep := range deps(pkg) {
			own = own || has(dep, cloudSDKs[cloud]...)
			if has(dep, "github.com/hashicorp/") {
				t.Errorf("%s depends on %s, of HashiCorp Vault", pkg, dep)
			}
			if driver == "awskms" && has(dep, "gocloud.dev/secrets", "go.opentelemetry.io/") {
				t.Errorf("%s depends on %s: it needs the AWS SDK alone", pkg, dep)
			}
			for other, prefixes := range cloudSDKs {
				viaGocloud := other == "gcp" && driver != "awskms"
				if other != cloud && !viaGocloud && has(dep, prefixes...) {
					t.Errorf("%s depends on %s, of %s", pkg, dep, other)
				}
			}
		}
		if !own {
			t.Errorf("%s does not depend on the %s SDK: is the check broken?", pkg, cloud)
		}
	}
	// The CLI built for AWS alone compiles no other cloud's SDK.
	awsOnly := "-tags=credvault_nogcpkms,credvault_noazurekeyvault,credvault_nohashivault"
	for _, dep := range deps(ours+"/example/credvault", awsOnly) {
		if has(dep, "github.com/hashicorp/") {
			t.Errorf("the CLI built with %s depends on %s", awsOnly, dep)
		}
		for _, cloud := range []string{"gcp", "azure"} {
			if has(dep, cloudSDKs[cloud]...) {
				t.Errorf("the CLI built with %s depends on %s, of %s", awsOnly, dep, cloud)
			}
		}
		if has(dep, "gocloud.dev/secrets", "go.opentelemetry.io/") {
			t.Errorf("the CLI built with %s depends on %s", awsOnly, dep)
		}
	}
}
