package vault

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/fernet/fernet-go"
)

// The Fernet token layout (https://github.com/fernet/spec), after URL-safe
// base64 decoding: version (1 byte, 0x80), timestamp (8, big-endian Unix
// seconds), IV (16), AES-128-CBC ciphertext with PKCS#7 padding (a positive
// multiple of 16), HMAC-SHA256 of all that (32).
const (
	tokenVersion  = 0x80
	tokenHeader   = 1 + 8 + 16
	tokenOverhead = tokenHeader + 32
	tokenMinLen   = tokenOverhead + 16 // one block of ciphertext at least

	// maxClockSkew is how far in the future a token's timestamp may be when
	// a maximum age is enforced; Python's Fernet allows the same 60 s.
	maxClockSkew = 60 * time.Second
)

// base64URLValue maps a byte of the URL-safe alphabet to its 6-bit value and
// every other byte to 0xff.
var base64URLValue = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xff
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// checkToken reports whether tok (the file's text without surrounding
// whitespace) is structurally a Fernet token, and returns its timestamp.
//
// It is strict where fernet-go is lenient: fernet-go decodes base64 up to the
// first bad character and ignores the error, and it panics on a token with a
// valid HMAC whose ciphertext is empty. The check reads the text once and
// decodes only the header, so it costs far less than the decryption after it.
// Its errors give positions and lengths, never the file's bytes.
func checkToken(tok []byte) (time.Time, error) {
	if len(tok) == 0 {
		return time.Time{}, fmt.Errorf("the file is empty")
	}
	if tok[0] == '{' {
		return time.Time{}, fmt.Errorf("it starts with '{' and looks like plaintext JSON, not a sealed vault")
	}
	pad := 0
	for pad < 2 && pad < len(tok) && tok[len(tok)-1-pad] == '=' {
		pad++
	}
	body := tok[:len(tok)-pad]
	for i, c := range body {
		if base64URLValue[c] == 0xff {
			if c == '\r' || c == '\n' {
				return time.Time{}, fmt.Errorf("a line break at character %d of %d splits the token: was the file edited, wrapped or converted to CRLF?", i+1, len(tok))
			}
			return time.Time{}, fmt.Errorf("character %d of %d is not URL-safe base64", i+1, len(tok))
		}
	}
	if len(tok)%4 != 0 || len(body) == 0 {
		return time.Time{}, fmt.Errorf("%d characters of text is not padded base64 (the length of a token is a multiple of 4): was the file truncated?", len(tok))
	}
	// Strict decoding: the bits that padding leaves unused must be zero.
	if last := base64URLValue[body[len(body)-1]]; pad == 1 && last&0x03 != 0 || pad == 2 && last&0x0f != 0 {
		return time.Time{}, fmt.Errorf("the base64 padding is not canonical")
	}
	n := len(tok)/4*3 - pad
	if n < tokenMinLen || (n-tokenOverhead)%16 != 0 {
		return time.Time{}, fmt.Errorf("%d bytes is not the length of a Fernet token (%d bytes and more, in steps of 16)", n, tokenMinLen)
	}
	var head [12]byte // 9 bytes of version and timestamp, and 3 of IV
	if _, err := base64.URLEncoding.Decode(head[:], tok[:16]); err != nil {
		return time.Time{}, fmt.Errorf("the header is not base64")
	}
	if head[0] != tokenVersion {
		return time.Time{}, fmt.Errorf("the version byte is 0x%02x, not 0x80", head[0])
	}
	return time.Unix(int64(binary.BigEndian.Uint64(head[1:9])), 0), nil
}

// decryptToken verifies tok under each key in turn and returns the plaintext
// and the position of the key that opened it, or nil and -1. tok must have
// passed checkToken, which makes fernet-go safe to call.
func decryptToken(tok []byte, keys []*Key) ([]byte, int) {
	ring := make([]*fernet.Key, 1)
	for i, k := range keys {
		ring[0] = k.fernetKey()
		// A ttl of 0 skips fernet-go's own clock: the caller checks the
		// timestamp against its own clock after the HMAC has proved it.
		if msg := fernet.VerifyAndDecrypt(tok, 0, ring); msg != nil {
			return msg, i
		}
	}
	return nil, -1
}

// authenticKey returns the position of the key whose HMAC verifies tok, or
// -1. Open calls it only after decryptToken failed, to tell a wrong key (or
// a changed file) from a token that is authentic but whose ciphertext does
// not decrypt to valid padding, which only a broken Fernet implementation
// holding the key can make.
func authenticKey(tok []byte, keys []*Key) int {
	raw, err := base64.URLEncoding.DecodeString(string(tok))
	if err != nil || len(raw) < sha256.Size {
		return -1
	}
	body, sum := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	for i, k := range keys {
		mac := hmac.New(sha256.New, k.fernetKey()[:16])
		mac.Write(body)
		if hmac.Equal(mac.Sum(nil), sum) {
			return i
		}
	}
	return -1
}

// sealToken encrypts and signs plaintext under key at time now.
func sealToken(plaintext []byte, key *Key, now time.Time) ([]byte, error) {
	tok, err := fernet.EncryptAndSignAtTime(plaintext, key.fernetKey(), now)
	if err != nil {
		return nil, fmt.Errorf("vault: cannot read random bytes for the IV: %w", err)
	}
	return tok, nil
}

// checkAge returns ErrExpired if a token sealed at sealed is older than
// maxAge at now, or more than maxClockSkew in the future. A maxAge of 0
// disables both checks, as Python's Fernet.decrypt without ttl does.
func checkAge(name string, sealed, now time.Time, maxAge time.Duration) error {
	if maxAge <= 0 {
		return nil
	}
	if sealed.Add(maxAge).Before(now) {
		return errorf(ErrExpired, "%s: sealed %s (%s ago), older than the maximum age of %s: re-seal it (credvault rotate) or allow an older vault",
			name, sealed.UTC().Format(time.RFC3339), now.Sub(sealed).Round(time.Second), maxAge)
	}
	if sealed.After(now.Add(maxClockSkew)) {
		return errorf(ErrExpired, "%s: sealed %s, %s in the future: the clock of this machine or of the one that sealed it is wrong",
			name, sealed.UTC().Format(time.RFC3339), sealed.Sub(now).Round(time.Second))
	}
	return nil
}
