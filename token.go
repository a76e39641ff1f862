package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// The Fernet token layout (https://github.com/fernet/spec), after URL-safe
// base64 decoding: version (1 byte, 0x80), timestamp (8, big-endian Unix
// seconds), IV (16), AES-128-CBC ciphertext with PKCS#7 padding (a positive
// multiple of 16), HMAC-SHA256 of all that (32).
const (
	tokenVersion  = 0x80
	tokenHeader   = 1 + 8 + aes.BlockSize
	tokenOverhead = tokenHeader + sha256.Size
	tokenMinLen   = tokenOverhead + aes.BlockSize // one block of ciphertext at least

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

// errWrongKey is openToken's signal that no key verified the token.
var errWrongKey = errors.New("no key verifies the HMAC")

// openToken checks, verifies and decrypts a Fernet token, in place: tok (the
// file's text without surrounding whitespace) is overwritten by its decoded
// bytes and then by the plaintext, which is returned as a part of tok. It
// returns the position of the key that verified the HMAC and the token's
// timestamp.
//
// This is the reading half of Fernet, written on the standard library's
// HMAC-SHA256 and AES-CBC so that a vault is decoded, verified and decrypted
// without a copy; the tests check it, and sealToken, against fernet-go and
// against Python. It is strict where fernet-go is lenient: base64
// must be canonical URL-safe base64 with padding (fernet-go decodes up to the
// first bad character), the length must be one a token can have (fernet-go
// panics on an authentic token whose ciphertext is empty), and the padding
// must be valid PKCS#7 (fernet-go accepts a pad byte of 0 or over 16, which
// Python refuses).
//
// Its errors give positions and lengths, never the token's bytes. An error
// wrapping errWrongKey means no key verified the HMAC; any other means the
// token is malformed.
func openToken(tok []byte, keys []*Key) (plain []byte, keyIndex int, sealedAt time.Time, err error) {
	raw, keyIndex, sealedAt, err := verifyToken(tok, keys)
	if err != nil {
		return nil, keyIndex, sealedAt, err
	}
	n := len(raw)
	block, err := aes.NewCipher(keys[keyIndex].fernetKey()[16:])
	if err != nil {
		return nil, -1, sealedAt, err // not reached: the key is 16 bytes
	}
	ciphertext := raw[tokenHeader : n-sha256.Size]
	cipher.NewCBCDecrypter(block, raw[9:tokenHeader]).CryptBlocks(ciphertext, ciphertext)
	pad := int(ciphertext[len(ciphertext)-1])
	if pad < 1 || pad > aes.BlockSize || !allBytes(ciphertext[len(ciphertext)-pad:], byte(pad)) {
		clear(ciphertext)
		return nil, keyIndex, sealedAt, fmt.Errorf("it is signed by key %s of the keyring, but its padding is invalid: the program that sealed it is broken; re-seal the vault", keys[keyIndex].Fingerprint())
	}
	return ciphertext[:len(ciphertext)-pad], keyIndex, sealedAt, nil
}

// verifyToken is openToken's first half: it decodes tok in place and checks
// its form and its HMAC against keys, without decrypting. It returns the
// decoded token, the index of the key that signed it and the token's
// timestamp; an error wrapping errWrongKey, with the timestamp, when no key
// signed it. Telling whether a file is a vault sealed with a key, and when,
// needs no more.
func verifyToken(tok []byte, keys []*Key) (raw []byte, keyIndex int, sealedAt time.Time, err error) {
	raw, err = decodeInPlace(tok)
	if err != nil {
		return nil, -1, time.Time{}, err
	}
	n := len(raw)
	if n < tokenMinLen || (n-tokenOverhead)%aes.BlockSize != 0 {
		return nil, -1, time.Time{}, fmt.Errorf("its base64 decodes to %d bytes, not the length of a Fernet token (%d bytes and more, in steps of 16)", n, tokenMinLen)
	}
	if raw[0] != tokenVersion {
		return nil, -1, time.Time{}, fmt.Errorf("the version byte is 0x%02x, not 0x80", raw[0])
	}
	sealedAt = time.Unix(int64(binary.BigEndian.Uint64(raw[1:9])), 0)
	signed, sum := raw[:n-sha256.Size], raw[n-sha256.Size:]
	for i, k := range keys {
		mac := hmac.New(sha256.New, k.fernetKey()[:16])
		mac.Write(signed)
		if hmac.Equal(mac.Sum(nil), sum) {
			return raw, i, sealedAt, nil
		}
	}
	return nil, -1, sealedAt, errWrongKey
}

func allBytes(b []byte, c byte) bool {
	for _, x := range b {
		if x != c {
			return false
		}
	}
	return true
}

// decodeInPlace decodes padded URL-safe base64, strictly, into the start of
// tok itself and returns the decoded bytes. Each 4 characters become 3 bytes
// written behind the characters still to be read, so no input is lost.
func decodeInPlace(tok []byte) ([]byte, error) {
	if len(tok) == 0 {
		return nil, errors.New("the file is empty")
	}
	if tok[0] == '{' {
		return nil, errors.New("it starts with '{' and looks like plaintext JSON, not a sealed vault")
	}
	pad := 0
	for pad < 2 && pad < len(tok) && tok[len(tok)-1-pad] == '=' {
		pad++
	}
	body := len(tok) - pad
	if len(tok)%4 != 0 || body == 0 {
		if i := badBase64(tok[:body]); i >= 0 {
			return nil, base64Error(tok, i)
		}
		return nil, fmt.Errorf("%d characters of text is not padded base64 (the length of a token is a multiple of 4): was the file truncated?", len(tok))
	}
	out := 0
	i := 0
	// Eight characters at a time into six bytes. PutUint64 writes eight,
	// the last two to be overwritten: all of them land on characters
	// already read (out+8 <= i+8).
	for ; i+8 <= body; i += 8 {
		q := tok[i : i+8 : i+8]
		a, b, c, d := base64URLValue[q[0]], base64URLValue[q[1]], base64URLValue[q[2]], base64URLValue[q[3]]
		e, f, g, h := base64URLValue[q[4]], base64URLValue[q[5]], base64URLValue[q[6]], base64URLValue[q[7]]
		if (a|b|c|d|e|f|g|h)&0xc0 != 0 { // 0xff marks a byte outside the alphabet
			return nil, base64Error(tok, i+badBase64(q))
		}
		v := uint64(a)<<58 | uint64(b)<<52 | uint64(c)<<46 | uint64(d)<<40 |
			uint64(e)<<34 | uint64(f)<<28 | uint64(g)<<22 | uint64(h)<<16
		binary.BigEndian.PutUint64(tok[out:], v)
		out += 6
	}
	for ; i+4 <= body; i += 4 {
		a, b, c, d := base64URLValue[tok[i]], base64URLValue[tok[i+1]], base64URLValue[tok[i+2]], base64URLValue[tok[i+3]]
		if (a|b|c|d)&0xc0 != 0 { // 0xff marks a byte outside the alphabet

			return nil, base64Error(tok, i+badBase64(tok[i:i+4]))
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		tok[out], tok[out+1], tok[out+2] = byte(v>>16), byte(v>>8), byte(v)
		out += 3
	}
	// The last, padded quantum: 2 or 3 characters for 1 or 2 bytes, with the
	// bits the padding leaves unused zero (canonical encoding).
	if rest := body - i; rest > 0 {
		if j := badBase64(tok[i:body]); j >= 0 {
			return nil, base64Error(tok, i+j)
		}
		a, b := base64URLValue[tok[i]], base64URLValue[tok[i+1]]
		if rest == 2 {
			if b&0x0f != 0 {
				return nil, errors.New("the base64 padding is not canonical")
			}
			tok[out] = a<<2 | b>>4
			out++
		} else {
			c := base64URLValue[tok[i+2]]
			if c&0x03 != 0 {
				return nil, errors.New("the base64 padding is not canonical")
			}
			tok[out], tok[out+1] = a<<2|b>>4, b<<4|c>>2
			out += 2
		}
	}
	return tok[:out], nil
}

// badBase64 returns the index of the first byte of s outside the URL-safe
// alphabet, or -1.
func badBase64(s []byte) int {
	for i, c := range s {
		if base64URLValue[c] == 0xff {
			return i
		}
	}
	return -1
}

func base64Error(tok []byte, i int) error {
	if c := tok[i]; c == '\r' || c == '\n' {
		return fmt.Errorf("a line break at character %d of %d splits the token: was the file edited, wrapped or converted to CRLF?", i+1, len(tok))
	}
	return fmt.Errorf("character %d of %d is not URL-safe base64", i+1, len(tok))
}

// sealToken encrypts and signs plaintext under key at time now: the
// writing half of Fernet, in the layout above, with an IV from
// crypto/rand. It writes what fernet-go's EncryptAndSignAtTime writes
// for the same IV, byte for byte (TestSealTokenMatchesFernetGo), with one
// copy of the plaintext where fernet-go makes two, and the base64 of a
// large token written while its HMAC is computed: a third of Seal's time
// for a 100k-secret vault was spent here, one step after another.
func sealToken(plaintext []byte, key *Key, now time.Time) ([]byte, error) {
	n := len(plaintext)/aes.BlockSize*aes.BlockSize + aes.BlockSize // PKCS#7 always pads
	raw := make([]byte, tokenHeader+n+sha256.Size)
	raw[0] = tokenVersion
	binary.BigEndian.PutUint64(raw[1:9], uint64(now.Unix()))
	iv := raw[9:tokenHeader]
	if _, err := io.ReadFull(rand.Reader, iv); err != nil {
		return nil, fmt.Errorf("vault: cannot read random bytes for the IV: %w", err)
	}
	body := raw[tokenHeader : tokenHeader+n]
	copy(body, plaintext)
	for i := len(plaintext); i < n; i++ {
		body[i] = byte(n - len(plaintext))
	}
	block, err := aes.NewCipher(key.fernetKey()[16:])
	if err != nil {
		clear(body)
		return nil, err
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(body, body)

	// The HMAC covers all but itself; the base64 of those bytes, up to a
	// whole number of 3-byte groups, is written at the same time on a
	// second goroutine when the token is large, then the rest.
	signed := raw[:tokenHeader+n]
	tok := make([]byte, base64.URLEncoding.EncodedLen(len(raw)))
	head := len(signed) / 3 * 3
	encodeHead := func() { base64.URLEncoding.Encode(tok, signed[:head]) }
	var t *task
	if len(raw) >= parallelMin {
		t = goTask(encodeHead)
	} else {
		encodeHead()
	}
	mac := hmac.New(sha256.New, key.fernetKey()[:16])
	mac.Write(signed)
	mac.Sum(raw[:len(signed)])
	if t != nil {
		t.rethrow()
	}
	base64.URLEncoding.Encode(tok[head/3*4:], raw[head:])
	return tok, nil
}

// checkAge returns ErrExpired if a token sealed at sealed is older than
// maxAge at now, or more than maxClockSkew in the future. A maxAge of 0
// disables both checks, as Python's Fernet.decrypt without ttl does; a
// negative one is an error (not ErrExpired): a mistake, not an old vault.
func checkAge(name string, sealed, now time.Time, maxAge time.Duration) error {
	if maxAge < 0 {
		return fmt.Errorf("vault: %s: the maximum age %s is negative: give a positive duration, or 0 for no limit", name, maxAge)
	}
	if maxAge == 0 {
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
