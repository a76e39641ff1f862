// Package hashivault is the custody driver for HashiCorp Vault Transit
// recipients, "hashivault://" URLs as gocloud.dev/secrets/hashivault reads
// them:
//
//	hashivault://KEYNAME[?engine=MOUNT]     (engine defaults to "transit")
//
// The server and token come from [Config], which a program fills from its
// environment ([FromEnv]: $VAULT_ADDR, $VAULT_TOKEN, as gocloud.dev reads
// them); a CI job logs in first (hashicorp/vault-action with a JWT role, say)
// and exports them. Transit, as gocloud.dev drives it, binds no context to a
// ciphertext: the [custody.Binding] rests on the fingerprint check of the
// unwrapped key. The caller needs the update capability on
// MOUNT/encrypt/KEYNAME to add the recipient or rotate, and on
// MOUNT/decrypt/KEYNAME to open.
//
// This driver is compiled in and its URLs validated, but no Vault server can
// be had in credvault's tests: the calls themselves are those of
// gocloud.dev, exercised by gocloud.dev's own tests.
package hashivault

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sync"

	"github.com/hashicorp/vault/api"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/hashivault"

	"github.com/credvault/vault/custody"
)

// Config says which Vault server to use and with which token.
type Config struct {
	Address string // e.g. https://vault.example.com:8200
	Token   string
}

// FromEnv returns the Config that gocloud.dev's default opener reads:
// $VAULT_SERVER_URL or $VAULT_ADDR, $VAULT_SERVER_TOKEN or $VAULT_TOKEN.
func FromEnv(getenv func(string) string) Config {
	first := func(a, b string) string {
		if v := getenv(a); v != "" {
			return v
		}
		return getenv(b)
	}
	return Config{Address: first("VAULT_SERVER_URL", "VAULT_ADDR"), Token: first("VAULT_SERVER_TOKEN", "VAULT_TOKEN")}
}

// A Driver wraps and unwraps keys with Vault Transit. It is safe for
// concurrent use. Printing it does not show the token.
type Driver struct {
	cfg func() Config
}

// New returns a Driver that reaches the server cfg names.
func New(cfg Config) *Driver { return &Driver{cfg: func() Config { return cfg }} }

// String describes the driver without its token.
func (d *Driver) String() string { return "hashivault.Driver(" + d.cfg().Address + ")" }

// Scheme returns "hashivault".
func (*Driver) Scheme() string { return hashivault.Scheme }

var (
	name   = lazyRegexp(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$`)
	engine = lazyRegexp(`^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$`)
)

// Check validates a hashivault:// URL: a Transit key name (no path, so no
// "../" can leave the engine's mount), and no parameter but engine.
func (*Driver) Check(u *url.URL) error {
	key := u.Host
	if u.Path != "" && u.Path != "/" || !name().MatchString(key) || key == ".." {
		return fmt.Errorf("hashivault: %q is not a Transit key name: use hashivault://KEYNAME[?engine=MOUNT]", u.Host+u.Path)
	}
	for p, values := range u.Query() {
		if p != "engine" {
			return fmt.Errorf("hashivault: parameter %q is not supported (only engine)", p)
		}
		if len(values) != 1 || !engine().MatchString(values[0]) {
			return errors.New("hashivault: engine must be a mount path such as transit or team/transit")
		}
	}
	return nil
}

func (d *Driver) keeper(ctx context.Context, u *url.URL) (*secrets.Keeper, error) {
	cfg := d.cfg()
	if cfg.Address == "" {
		return nil, errors.New("hashivault: no Vault server: set $VAULT_ADDR (and $VAULT_TOKEN)")
	}
	client, err := hashivault.Dial(ctx, &hashivault.Config{Token: cfg.Token, APIConfig: api.Config{Address: cfg.Address}})
	if err != nil {
		return nil, fmt.Errorf("hashivault: %v", err)
	}
	opts := &hashivault.KeeperOptions{Engine: u.Query().Get("engine")}
	return hashivault.OpenKeeper(client, u.Host, opts), nil
}

// Wrap encrypts key with the Transit key u names.
func (d *Driver) Wrap(ctx context.Context, u *url.URL, key []byte, _ custody.Binding) ([]byte, error) {
	if err := d.Check(u); err != nil {
		return nil, err
	}
	k, err := d.keeper(ctx, u)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	wrapped, err := k.Encrypt(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("hashivault: encrypt: %v", err)
	}
	return wrapped, nil
}

// Unwrap decrypts wrapped with the Transit key u names.
func (d *Driver) Unwrap(ctx context.Context, u *url.URL, wrapped []byte, _ custody.Binding) ([]byte, error) {
	if err := d.Check(u); err != nil {
		return nil, err
	}
	k, err := d.keeper(ctx, u)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	plain, err := k.Decrypt(ctx, wrapped)
	if err != nil {
		return nil, fmt.Errorf("hashivault: decrypt: %v", err)
	}
	return plain, nil
}

// lazyRegexp compiles expr on first use, not when the program starts: a
// program that never meets this driver's URLs does not pay for it.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
