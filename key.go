package vault

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode"

	"github.com/fernet/fernet-go"
)

// A Key is a Fernet key: 32 random bytes, the first half signing and the
// second half encrypting, exactly as Python's cryptography.fernet uses them.
//
// A Key never shows its secret when printed: every fmt verb, String,
// GoString and LogValue give "vault.Key(" + fingerprint + ")". The secret
// leaves only through [Key.Encode]. The zero Key is not a usable key. A Key
// is used through a *Key, which GenerateKey and ParseKey return: its
// methods have pointer receivers and accept a nil *Key; a Key value copied
// out of one has none of them, and prints, by reflection, an address and
// the fingerprint.
type Key struct {
	// secret returns the key. fmt prints a func as its address whatever the
	// verb and depth, so even a struct holding a Key in an unexported field,
	// which fmt prints by reflection without calling Format, shows no key.
	// (A plain pointer is not enough: under a verb it cannot apply, such as
	// %s, fmt prints what the pointer points to.)
	secret func() *fernet.Key
	fp     string
}

// keyFingerprintDomain separates fingerprint hashes from any other use of the key.
const keyFingerprintDomain = "credvault key fingerprint v1\x00"

// GenerateKey returns a new random key from crypto/rand.
// It panics only if the system's random source fails, which Go treats as fatal.
func GenerateKey() *Key {
	var k fernet.Key
	if err := k.Generate(); err != nil {
		panic("vault: crypto/rand failed: " + err.Error())
	}
	return newKey(&k)
}

func newKey(k *fernet.Key) *Key {
	h := sha256.New()
	h.Write([]byte(keyFingerprintDomain))
	h.Write(k[:])
	return &Key{secret: func() *fernet.Key { return k }, fp: hex.EncodeToString(h.Sum(nil)[:6])}
}

// ParseKey parses a key in Python's form (URL-safe base64 with padding, as
// Fernet.generate_key() writes it), in standard base64, with or without
// padding, or as 64 hex digits. Surrounding whitespace, including the CR/LF
// that ends a key file, is ignored.
//
// An error from ParseKey never quotes s; it says what was wrong with it.
func ParseKey(s string) (*Key, error) {
	k, err := parseKey(s)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return k, nil
}

// parseKey is ParseKey without the package prefix on its errors.
func parseKey(s string) (*Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("the key is empty: set it to a key made by \"credvault keygen\" or Python's Fernet.generate_key()")
	}
	var (
		b   []byte
		err error
	)
	switch {
	case len(s) == 2*fernetKeySize && isHex(s):
		b, err = hex.DecodeString(s)
	default:
		b, err = decodeAnyBase64(s)
	}
	if err != nil {
		return nil, fmt.Errorf("the key is not base64 or hex (%d characters, some outside the base64 alphabet): a key is 44 characters of URL-safe base64 as Fernet.generate_key() writes it; check that the whole key was copied", len(s))
	}
	if len(b) != fernetKeySize {
		return nil, fmt.Errorf("the key decodes to %d bytes, want %d: a key is 44 characters of URL-safe base64 as Fernet.generate_key() writes it; check that the whole key was copied", len(b), fernetKeySize)
	}
	var k fernet.Key
	copy(k[:], b)
	clear(b)
	return newKey(&k), nil
}

const fernetKeySize = 32

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// decodeAnyBase64 accepts the URL-safe and the standard alphabet, padded or not.
func decodeAnyBase64(s string) ([]byte, error) {
	enc := base64.URLEncoding
	if strings.ContainsAny(s, "+/") {
		enc = base64.StdEncoding
	}
	if !strings.HasSuffix(s, "=") && len(s)%4 != 0 {
		enc = enc.WithPadding(base64.NoPadding)
	}
	return enc.Strict().DecodeString(s)
}

// ParseKeyring parses a list of keys, newest first, separated by commas,
// spaces or newlines: "new,old", "new old" or one key per line. The first key
// seals; any of them opens. This is the form of MASTER_KEY during a rotation
// window, and of a key file that holds several keys.
//
// An empty element between commas ("new,,old", ",old") is an error rather
// than skipped: it is what MASTER_KEY="$NEW,$OLD" gives when NEW is unset, and
// silently sealing with the old key would undo the rotation. Errors name the
// element by its position, never by its text.
func ParseKeyring(s string) ([]*Key, error) {
	parts := strings.Split(s, ",")
	var keys []*Key
	for i, part := range parts {
		fields := strings.FieldsFunc(part, unicode.IsSpace)
		if len(fields) == 0 {
			if len(parts) == 1 {
				return nil, fmt.Errorf("vault: the keyring is empty: set it to a key made by \"credvault keygen\", or to \"new,old\" during a rotation")
			}
			return nil, fmt.Errorf("vault: keyring element %d of %d (separated by commas) is empty: is a variable in \"$NEW,$OLD\" unset? remove the stray comma or set the missing key", i+1, len(parts))
		}
		for _, f := range fields {
			k, err := parseKey(f)
			if err != nil {
				return nil, fmt.Errorf("vault: keyring key %d: %w", len(keys)+1, err)
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// Encode returns the key in Python's form: URL-safe base64 with padding, 44
// characters. It is the only way to see the key's secret.
//
// Encode panics, saying so, for a nil Key or the zero Key, which have no
// secret: a program that encoded one would write an empty key somewhere.
func (k *Key) Encode() string {
	if !k.valid() {
		panic("vault: Encode of a nil or zero Key: make keys with GenerateKey, ParseKey or ParseKeyring")
	}
	return k.secret().Encode()
}

// Fingerprint returns a short identifier of the key, safe to log and print:
// 12 hex digits of a domain-separated SHA-256 of the key. It tells keys apart
// (in status output and audit events) and reveals nothing usable about the key.
// It is "" for a nil Key and the zero Key.
func (k *Key) Fingerprint() string {
	if k == nil {
		return ""
	}
	return k.fp
}

// String returns "vault.Key(" + fingerprint + ")", or "vault.Key(invalid)"
// for a nil Key or the zero Key.
func (k *Key) String() string {
	if !k.valid() {
		return "vault.Key(invalid)"
	}
	return "vault.Key(" + k.fp + ")"
}

// GoString returns the same as String, so %#v does not show the key either.
func (k *Key) GoString() string { return k.String() }

// Format implements fmt.Formatter so that every verb, %x and %d included,
// prints String rather than the key's bytes.
func (k *Key) Format(f fmt.State, verb rune) { fmt.Fprint(f, k.String()) }

// LogValue implements slog.LogValuer: a logged Key shows its fingerprint.
func (k *Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalText implements encoding.TextMarshaler with the same redaction, so
// that a Key inside a struct encoded as JSON or YAML shows its fingerprint.
func (k *Key) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// fernetKey returns the key in the form fernet-go takes.
func (k *Key) fernetKey() *fernet.Key { return k.secret() }

// valid reports whether k is a key made by this package, not nil or zero.
func (k *Key) valid() bool { return k != nil && k.secret != nil }
