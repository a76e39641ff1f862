package awskms_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/custody/awskms"
	"github.com/credvault/vault/internal/leakcheck"
	"github.com/credvault/vault/internal/localkms"
)

const (
	keyA = "0e1f2a3b-0000-4000-8000-00000000000a"
	keyB = "0e1f2a3b-0000-4000-8000-00000000000b"
	keyC = "0e1f2a3b-0000-4000-8000-00000000000c"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCheck(t *testing.T) {
	d := awskms.New()
	for _, tc := range []struct {
		url  string
		want string // "" for valid
	}{
		{"awskms:///arn:aws:kms:eu-west-1:111122223333:key/" + keyA, ""},
		{"awskms:///arn:aws:kms:eu-west-1:111122223333:alias/credvault-ci", ""},
		{"awskms://alias/credvault-ci?region=eu-west-1", ""},
		{"awskms://" + keyA + "?region=us-east-1&fips=true", ""},
		{"awskms:///arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/" + keyA + "?dualstack=true", ""},
		{"awskms://alias/ci?profile=alice", "names an AWS profile"},
		{"awskms://alias/ci?endpoint=http://evil.example", "AWS_ENDPOINT_URL_KMS"},
		{"awskms://alias/ci?context_team=x", "remove context_ parameters"},
		{"awskms://alias/ci?awssdk=v1", `parameter "awssdk" is not supported`},
		{"awskms://alias/ci?region=", "takes one value"},
		{"awskms://not-a-key", "is not a KMS key ARN"},
	} {
		err := d.Check(mustURL(t, tc.url))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.url, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want it to say %q", tc.url, err, tc.want)
		}
	}
}

// TestLocalKMS runs the driver against local-kms: wrap and unwrap; a
// ciphertext made by another key, or for another vault key, refused; a
// disabled key; an unreachable endpoint.
func TestLocalKMS(t *testing.T) {
	srv := localkms.Start(t, localkms.Seed(keyA, keyB, keyC))
	srv.Setenv(t)
	ctx := context.Background()
	d := awskms.New()
	key := vault.GenerateKey()
	plain := []byte(key.Encode())
	bind := custody.Binding{Fingerprint: key.Fingerprint()}
	urlA := mustURL(t, "awskms:///"+localkms.ARN(keyA))
	urlB := mustURL(t, "awskms:///"+localkms.ARN(keyB))

	wrappedA, err := d.Wrap(ctx, urlA, plain, bind)
	if err != nil {
		t.Fatal(err)
	}
	leakcheck.NoSecrets(t, "wrapped key", string(wrappedA), key.Encode())

	t.Run("round trip", func(t *testing.T) {
		for _, u := range []string{"awskms:///" + localkms.ARN(keyA), "awskms://" + keyA} {
			got, err := d.Unwrap(ctx, mustURL(t, u), wrappedA, bind)
			if err != nil || !bytes.Equal(got, plain) {
				t.Errorf("%s: Unwrap = %v; want the key back", u, err)
			}
		}
	})
	t.Run("made by another key", func(t *testing.T) {
		// gocloud.dev's keeper decrypts this: the ciphertext names key A,
		// and Decrypt without a KeyId uses whatever key it names.
		_, err := d.Unwrap(ctx, urlB, wrappedA, bind)
		if err == nil || !strings.Contains(err.Error(), "was not made by this KMS key") {
			t.Errorf("Unwrap with key B of a key wrapped by A: %v, want a refusal", err)
		}
	})
	t.Run("another binding", func(t *testing.T) {
		_, err := d.Unwrap(ctx, urlA, wrappedA, custody.Binding{Fingerprint: vault.GenerateKey().Fingerprint()})
		if err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("Unwrap with another fingerprint in the context: %v, want a refusal", err)
		}
	})
	t.Run("disabled key", func(t *testing.T) {
		wrappedC, err := d.Wrap(ctx, mustURL(t, "awskms://"+keyC), plain, bind)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kms.NewFromConfig(cfg).DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(keyC)}); err != nil {
			t.Fatal(err)
		}
		_, err = d.Unwrap(ctx, mustURL(t, "awskms://"+keyC), wrappedC, bind)
		if err == nil || !strings.Contains(err.Error(), "the KMS key is disabled") {
			t.Errorf("Unwrap with a disabled key: %v", err)
		}
		_, err = d.Wrap(ctx, mustURL(t, "awskms://"+keyC), plain, bind)
		if err == nil || !strings.Contains(err.Error(), "disabled") {
			t.Errorf("Wrap with a disabled key: %v", err)
		}
	})
	t.Run("no such key", func(t *testing.T) {
		_, err := d.Wrap(ctx, mustURL(t, "awskms://0e1f2a3b-0000-4000-8000-0000000000ff"), plain, bind)
		if err == nil || !strings.Contains(err.Error(), "NotFound") && !strings.Contains(err.Error(), "no such KMS key") {
			t.Errorf("Wrap with a missing key: %v", err)
		}
	})
}

func TestUnreachable(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_REGION", "eu-west-2")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	d := awskms.New()
	u := mustURL(t, "awskms://"+keyA)
	bind := custody.Binding{Fingerprint: "0123456789ab"}

	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		t.Setenv("AWS_ENDPOINT_URL_KMS", "http://"+addr)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err = d.Unwrap(ctx, u, []byte("wrapped"), bind)
		if err == nil || !strings.Contains(err.Error(), "cannot reach AWS KMS") {
			t.Errorf("Unwrap from a closed port: %v", err)
		}
	})
	t.Run("silent", func(t *testing.T) {
		// A server that accepts and never answers: only the deadline ends it.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		t.Setenv("AWS_ENDPOINT_URL_KMS", "http://"+ln.Addr().String())
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err = d.Unwrap(ctx, u, []byte("wrapped"), bind)
		if err == nil || !strings.Contains(err.Error(), "deadline") {
			t.Errorf("Unwrap from a silent server: %v, want the deadline", err)
		}
	})
}

// TestAccessDenied checks the message for a role the key policy refuses,
// which local-kms, having no policies, cannot produce: a stub answers as
// AWS does.
func TestAccessDenied(t *testing.T) {
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"__type":"AccessDeniedException","message":"User: arn:aws:sts::111122223333:assumed-role/ci/run is not authorized to perform: kms:Decrypt"}`))
	}))
	defer stub.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_REGION", "eu-west-2")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL_KMS", stub.URL)
	_, err := awskms.New().Unwrap(context.Background(), mustURL(t, "awskms://"+keyA), []byte("wrapped"), custody.Binding{Fingerprint: "0123456789ab"})
	if err == nil || !strings.Contains(err.Error(), "access denied") || !strings.Contains(err.Error(), "not authorized to perform: kms:Decrypt") {
		t.Errorf("Unwrap refused by the key policy: %v", err)
	}
}
