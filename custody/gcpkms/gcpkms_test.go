package gcpkms_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/credvault/vault/custody/gcpkms"
)

// TestCheck validates URLs; no Cloud KMS can be reached from the tests.
func TestCheck(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"gcpkms://projects/my-project/locations/europe-west1/keyRings/ci/cryptoKeys/credvault", ""},
		{"gcpkms://projects/my-project/locations/global/keyRings/ci/cryptoKeys/credvault?additional_authenticated_data=eA==", "takes no parameter"},
		{"gcpkms://projects/my-project/keyRings/ci/cryptoKeys/credvault", "not a CryptoKey resource name"},
		{"gcpkms://projects/my-project/locations/global/keyRings/ci/cryptoKeys/credvault/cryptoKeyVersions/1", "not a CryptoKey resource name"},
		{"gcpkms://projects/../locations/global/keyRings/ci/cryptoKeys/k", "not a CryptoKey resource name"},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		err = gcpkms.New().Check(u)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
		}
	}
}
