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
	"gcp":   {"cloud.google.com/", "google.golang.org/", "golang.org/x/oauth2"},
	"azure": {"github.com/Azure/", "github.com/AzureAD/"},
}

// heavy are module path prefixes that no program of ours compiles: gRPC,
// protocol buffers and Google's generated clients, OpenTelemetry,
// gocloud.dev and HashiCorp Vault's SDK. The KMS drivers once brought them
// all (through gocloud.dev/secrets), doubling the CLI's start-up time and
// its resident memory.
var heavy = []string{
	"google.golang.org/grpc", "google.golang.org/protobuf", "google.golang.org/genproto", "google.golang.org/api",
	"cloud.google.com/go/kms", "cloud.google.com/go/auth", "github.com/googleapis/",
	"go.opentelemetry.io/", "gocloud.dev", "github.com/hashicorp/",
}

// TestDependencies checks what each package compiles in, as "go list -deps"
// shows it, against an allow list: the root package only fernet-go, the
// custody core only age, and each KMS driver of package custody its own
// cloud's SDK and no other. hashivault needs none (it speaks Vault's HTTP
// API with the standard library), gcpkms only golang.org/x/oauth2 for its
// credentials (it speaks Cloud KMS's REST API), azurekeyvault the Key Vault
// SDK and azidentity, awskms the AWS SDK. A program that only opens vaults
// must not pay for clouds, and the CLI, which compiles every driver, none
// of the heavy modules.
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
	core := []string{"github.com/fernet/fernet-go", "filippo.io/age", "golang.org/x/crypto", "golang.org/x/sys", "golang.org/x/term"}
	for pkg, allow := range map[string][]string{
		ours:                            {"github.com/fernet/fernet-go", "golang.org/x/sys", "golang.org/x/term"},
		ours + "/custody":               core,
		ours + "/custody/hashivault":    core,
		ours + "/custody/gcpkms":        append([]string{"golang.org/x/oauth2", "cloud.google.com/go/compute/metadata"}, core...),
		ours + "/custody/awskms":        append([]string{"github.com/aws/"}, core...),
		ours + "/custody/azurekeyvault": append([]string{"github.com/Azure/", "github.com/AzureAD/", "github.com/golang-jwt/jwt/", "github.com/google/uuid", "github.com/kylelemons/godebug/", "github.com/pkg/browser", "golang.org/x/net/", "golang.org/x/text/"}, core...),
	} {
		for _, dep := range deps(pkg) {
			driverShared := dep == ours+"/custody" || dep == ours+"/custody/internal/kmshttp"
			if dep == ours || dep == pkg || has(dep, ours+"/") && !has(dep, ours+"/custody/") || driverShared || has(dep, allow...) {
				continue
			}
			t.Errorf("%s depends on %s", pkg, dep)
		}
	}
	// Each driver of a cloud SDK depends on it: the allow lists above
	// would pass a driver that compiled nothing.
	for driver, cloud := range map[string]string{"awskms": "aws", "gcpkms": "gcp", "azurekeyvault": "azure"} {
		own := false
		for _, dep := range deps(ours + "/custody/" + driver) {
			own = own || has(dep, cloudSDKs[cloud]...)
		}
		if !own {
			t.Errorf("%s does not depend on the %s SDK: is the check broken?", driver, cloud)
		}
	}
	// The CLI, with every driver, compiles none of the heavy modules; built
	// for AWS alone it compiles no other cloud's SDK.
	for _, dep := range deps(ours + "/example/credvault") {
		if has(dep, heavy...) {
			t.Errorf("the CLI depends on %s", dep)
		}
	}
	awsOnly := "-tags=credvault_nogcpkms,credvault_noazurekeyvault,credvault_nohashivault"
	for _, dep := range deps(ours+"/example/credvault", awsOnly) {
		for _, cloud := range []string{"gcp", "azure"} {
			if has(dep, cloudSDKs[cloud]...) {
				t.Errorf("the CLI built with %s depends on %s, of %s", awsOnly, dep, cloud)
			}
		}
		if has(dep, ours+"/custody/hashivault") {
			t.Errorf("the CLI built with %s compiles the Vault driver", awsOnly)
		}
	}
}
