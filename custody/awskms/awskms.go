// Package awskms is the custody driver for AWS KMS recipients,
// "awskms://" URLs as gocloud.dev/secrets/awskms reads them:
//
//	awskms:///arn:aws:kms:eu-west-1:111122223333:key/1234abcd-...   (a key ARN)
//	awskms://alias/credvault-ci?region=eu-west-1                    (an alias)
//
// The key is reached with the ambient credentials of the process, through
// the AWS SDK's default chain (environment, web identity token from an OIDC
// provider, SSO, shared configuration, instance roles), in the region the
// ARN names, or the region= parameter, or $AWS_REGION. A recipients file is
// shared, so the URL may carry only region=, fips= and dualstack=: a
// profile or an endpoint belongs to one user's setup and comes from the
// environment (AWS_PROFILE, AWS_ENDPOINT_URL_KMS).
//
// Keys are wrapped with Encrypt and the encryption context of the
// [custody.Binding] (purpose=credvault, key=FINGERPRINT); key policies can
// require it with the condition kms:EncryptionContext:purpose. They are
// unwrapped with Decrypt called with the recipient's KeyId, so that AWS
// refuses a ciphertext made under any other key, even one the caller may
// use. The URL and its parameters are read as gocloud.dev/secrets/awskms
// reads them; the calls are the SDK's own, because gocloud.dev's keeper
// sends no KeyId on Decrypt, and because its portable secrets package would
// add some 15 MB (gRPC, OpenTelemetry) to a program that needs AWS alone. The caller needs kms:Encrypt to add the
// recipient or rotate, and kms:Decrypt to open the vault.
package awskms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/credvault/vault/custody"
)

// A Driver wraps and unwraps keys with AWS KMS. The zero value is ready to
// use; it is safe for concurrent use.
type Driver struct{}

// New returns a Driver.
func New() *Driver { return &Driver{} }

// Scheme returns "awskms".
func (*Driver) Scheme() string { return "awskms" }

var (
	keyARN   = lazyRegexp(`^arn:aws[a-z-]*:kms:([a-z0-9-]+):[0-9]{12}:(key|alias)/[A-Za-z0-9/_+=.@-]+$`)
	keyID    = lazyRegexp(`^(mrk-)?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$|^mrk-[0-9a-f]{32}$`)
	aliasRef = lazyRegexp(`^alias/[A-Za-z0-9/_-]+$`)
)

// Check validates an awskms:// URL: a key ARN, key ID, alias name or alias
// ARN, and no query parameter but region, fips and dualstack.
func (*Driver) Check(u *url.URL) error {
	id := keyName(u)
	if !keyARN().MatchString(id) && !keyID().MatchString(id) && !aliasRef().MatchString(id) {
		return fmt.Errorf("awskms: %q is not a KMS key ARN, key ID or alias: use awskms:///arn:aws:kms:REGION:ACCOUNT:key/ID (three slashes: an ARN holds colons) or awskms://alias/NAME?region=REGION", id)
	}
	for name, values := range u.Query() {
		switch {
		case name == "region" || name == "fips" || name == "dualstack":
			if len(values) != 1 || values[0] == "" {
				return fmt.Errorf("awskms: parameter %s takes one value", name)
			}
		case name == "profile":
			return errors.New("awskms: the URL names an AWS profile, which is one user's setup: remove profile= and set AWS_PROFILE where needed instead")
		case name == "endpoint":
			return errors.New("awskms: the URL names an endpoint, which is one user's setup: remove endpoint= and set AWS_ENDPOINT_URL_KMS where needed instead")
		case strings.HasPrefix(name, "context_"):
			return errors.New("awskms: the URL sets an encryption context: remove context_ parameters; credvault binds every wrapped key to purpose=credvault and its fingerprint itself")
		default:
			return fmt.Errorf("awskms: parameter %q is not supported in a recipients file (only region, fips and dualstack)", name)
		}
	}
	return nil
}

// keyName returns the key ID, ARN or alias a URL names, as gocloud.dev
// reads it: host and path joined, without a leading slash.
func keyName(u *url.URL) string {
	return strings.TrimPrefix(path.Join(u.Host, u.Path), "/")
}

// client returns a KMS client for u: the SDK's default configuration, with
// the region the key's ARN names unless the URL gives one, and the URL's
// fips and dualstack, read as gocloud.dev/aws reads them (without its
// package, which would bring gocloud.dev's module along).
func client(ctx context.Context, u *url.URL) (*kms.Client, error) {
	params := u.Query()
	if m := keyARN().FindStringSubmatch(keyName(u)); m != nil && params.Get("region") == "" {
		params.Set("region", m[1])
	}
	opts := []func(*config.LoadOptions) error{
		// As gocloud.dev configured it: retries not rate-limited.
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.RateLimiter = ratelimit.None })
		}),
	}
	if r := params.Get("region"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	for _, p := range []string{"fips", "dualstack"} {
		if !params.Has(p) {
			continue
		}
		on, err := strconv.ParseBool(params.Get(p))
		if err != nil {
			return nil, fmt.Errorf("awskms: cannot load the AWS configuration: invalid value for %s: %v", p, err)
		}
		switch {
		case on && p == "fips":
			opts = append(opts, config.WithUseFIPSEndpoint(aws.FIPSEndpointStateEnabled))
		case on && p == "dualstack":
			opts = append(opts, config.WithUseDualStackEndpoint(aws.DualStackEndpointStateEnabled))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("awskms: cannot load the AWS configuration: %v", err)
	}
	return kms.NewFromConfig(cfg), nil
}

// Wrap encrypts key under the KMS key u names, with the binding as the
// encryption context.
func (d *Driver) Wrap(ctx context.Context, u *url.URL, key []byte, b custody.Binding) ([]byte, error) {
	if err := d.Check(u); err != nil {
		return nil, err
	}
	c, err := client(ctx, u)
	if err != nil {
		return nil, err
	}
	out, err := c.Encrypt(ctx, &kms.EncryptInput{
		KeyId:             aws.String(keyName(u)),
		Plaintext:         key,
		EncryptionContext: b.EncryptionContext(),
	})
	if err != nil {
		return nil, describe("Encrypt", err)
	}
	return out.CiphertextBlob, nil
}

// Unwrap decrypts wrapped with the KMS key u names and no other, and the
// binding as the encryption context.
func (d *Driver) Unwrap(ctx context.Context, u *url.URL, wrapped []byte, b custody.Binding) ([]byte, error) {
	if err := d.Check(u); err != nil {
		return nil, err
	}
	c, err := client(ctx, u)
	if err != nil {
		return nil, err
	}
	id := keyName(u)
	out, err := c.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:    wrapped,
		KeyId:             aws.String(id),
		EncryptionContext: b.EncryptionContext(),
	})
	if err != nil {
		return nil, describe("Decrypt", err)
	}
	// AWS honours KeyId; a key named by ARN or ID is checked here as well,
	// against the key that Decrypt reports it used.
	used := aws.ToString(out.KeyId)
	if (keyARN().MatchString(id) && !strings.Contains(id, ":alias/") && used != id) ||
		(keyID().MatchString(id) && !strings.HasSuffix(used, ":key/"+id)) {
		clear(out.Plaintext)
		return nil, fmt.Errorf("awskms: Decrypt used key %s, not %s: refused", used, id)
	}
	return out.Plaintext, nil
}

// describe turns an SDK error into one that says what to do.
func describe(op string, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		msg := api.ErrorMessage()
		switch api.ErrorCode() {
		case "AccessDeniedException":
			return fmt.Errorf("awskms: %s: access denied: the caller's role may not use this key (kms:%s in its IAM policy and in the key policy, with kms:EncryptionContext:purpose=credvault if the policy requires it): %s", op, op, msg)
		case "DisabledException":
			return fmt.Errorf("awskms: %s: the KMS key is disabled: enable it, or use another recipient: %s", op, msg)
		case "KMSInvalidStateException":
			return fmt.Errorf("awskms: %s: the KMS key cannot be used now (pending deletion or import?): %s", op, msg)
		case "NotFoundException":
			return fmt.Errorf("awskms: %s: no such KMS key in this account and region: check the ARN and the region: %s", op, msg)
		case "IncorrectKeyException", "InvalidCiphertextException":
			return fmt.Errorf("awskms: %s: the wrapped key was not made by this KMS key for this vault key (another key, or another purpose): refused", op)
		case "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException":
			return fmt.Errorf("awskms: %s: the AWS credentials are not valid (%s): renew them", op, api.ErrorCode())
		}
		return fmt.Errorf("awskms: %s: %s: %s", op, api.ErrorCode(), msg)
	}
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.As(err, &opErr):
		return fmt.Errorf("awskms: %s: cannot reach AWS KMS: %v: check the network, the region and $AWS_ENDPOINT_URL_KMS", op, opErr)
	case errors.As(err, &netErr):
		return fmt.Errorf("awskms: %s: cannot reach AWS KMS: %v", op, netErr)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("awskms: %s: %w", op, err)
	}
	return fmt.Errorf("awskms: %s: %v", op, err)
}

// lazyRegexp compiles expr on first use, not when the program starts: a
// program that never meets this driver's URLs does not pay for it.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
