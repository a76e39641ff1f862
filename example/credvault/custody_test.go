package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/credvault/vault/internal/localkms"
	"github.com/rogpeppe/go-internal/testscript"
)

// The KMS keys local-kms holds for the scripts: CI's, and another.
const (
	scriptKMSKey   = "0c1a0000-0000-4000-8000-00000000c1c1"
	scriptKMSOther = "0c1a0000-0000-4000-8000-0000000000ff"
)

// A scriptKMSServer is the local-kms the scripts share, or nil without one.
type scriptKMSServer struct{ srv *localkms.Server }

// scriptKMS starts local-kms for the scripts that need AWS KMS, if it can
// be had: under $CI it must.
func scriptKMS(t *testing.T) *scriptKMSServer {
	if _, err := localkms.Find(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("local-kms: %v", err)
		}
		t.Logf("local-kms: %v: the scripts that need it are skipped", err)
		return &scriptKMSServer{}
	}
	return &scriptKMSServer{srv: localkms.Start(t, localkms.Seed(scriptKMSKey, scriptKMSOther))}
}

// cmd is the script command "local-kms": it points the AWS SDK of the
// commands that follow at local-kms (dummy credentials, the region,
// AWS_ENDPOINT_URL_KMS), and sets KMS_KEY_ARN and KMS_OTHER_ARN to its
// keys. "local-kms unreachable" points it at a closed port instead.
func (k *scriptKMSServer) cmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 || len(args) == 1 && args[0] != "unreachable" {
		ts.Fatalf("usage: local-kms [unreachable]")
	}
	if k.srv == nil {
		ts.Fatalf("local-kms is not running: guard the script with [!kms] skip")
	}
	for _, kv := range k.srv.Env() {
		name, value, _ := strings.Cut(kv, "=")
		ts.Setenv(name, value)
	}
	if len(args) == 1 {
		// Port 1 of the loopback: nothing listens. One attempt each, so
		// the script does not wait for the SDK's retries.
		ts.Setenv("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:1")
		ts.Setenv("AWS_MAX_ATTEMPTS", "1")
	} else {
		ts.Setenv("AWS_MAX_ATTEMPTS", "")
	}
	ts.Setenv("KMS_KEY_ARN", localkms.ARN(scriptKMSKey))
	ts.Setenv("KMS_OTHER_ARN", localkms.ARN(scriptKMSOther))
}

// condition answers [kms] (local-kms runs) and [age] (Debian's age and
// age-keygen are installed; under $CI they must be).
func (k *scriptKMSServer) condition(cond string) (bool, error) {
	switch cond {
	case "kms":
		return k.srv != nil, nil
	case "age":
		for _, tool := range []string{"age", "age-keygen"} {
			if _, err := exec.LookPath(tool); err != nil {
				if os.Getenv("CI") != "" {
					return false, err
				}
				return false, nil
			}
		}
		return true, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// setupCustody keeps every script away from instance metadata services:
// the cloud SDKs probe one when no credentials are set.
func setupCustody(env *testscript.Env) error {
	env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return nil
}

// envfile NAME FILE sets the variable NAME to the contents of FILE, less
// surrounding white space, as $(cat FILE) would.
func cmdEnvFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envfile NAME FILE")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
}
