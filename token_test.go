package vault

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fernet/fernet-go"
)

// A specVector is one case of the Fernet spec's test vectors
// (github.com/fernet/spec, as shipped in fernet-go), kept in testdata/.
type specVector struct {
	Desc   string
	Token  string
	Now    time.Time
	IV     []byte
	Src    string
	Secret string
	TTLSec int `json:"ttl_sec"`
}

func loadVectors(t *testing.T, name string) []specVector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fernet-spec", name))
	if err != nil {
		t.Fatal(err)
	}
	var raw []struct {
		specVector
		IV []int
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	vs := make([]specVector, len(raw))
	for i, r := range raw {
		vs[i] = r.specVector
		for _, x := range r.IV {
			vs[i].IV = append(vs[i].IV, byte(x))
		}
	}
	return vs
}

// openSpecToken runs the token stages of Open on tok, without the JSON
// stage, since the spec's plaintexts are not JSON.
func openSpecToken(tok []byte, keys []*Key, now time.Time, maxAge time.Duration) ([]byte, error) {
	plain, _, sealed, err := openToken(bytes.Clone(tok), keys)
	switch {
	case errors.Is(err, errWrongKey):
		return nil, ErrWrongKey
	case err != nil:
		return nil, errors.Join(ErrMalformed, err)
	}
	if maxAge < 0 {
		maxAge = 0 // the spec's vectors write "no limit" as -1
	}
	if err := checkAge("token", sealed, now, maxAge); err != nil {
		return nil, err
	}
	return plain, nil
}

func TestSpecGenerate(t *testing.T) {
	for _, v := range loadVectors(t, "generate.json") {
		t.Run(v.Src, func(t *testing.T) {
			// fernet-go draws the IV from crypto/rand.Reader; the vector fixes it.
			saved := rand.Reader
			rand.Reader = bytes.NewReader(v.IV)
			defer func() { rand.Reader = saved }()
			tok, err := sealToken([]byte(v.Src), mustKey(t, v.Secret), v.Now)
			if err != nil {
				t.Fatal(err)
			}
			if string(tok) != v.Token {
				t.Errorf("token\n got %s\nwant %s", tok, v.Token)
			}
		})
	}
}

func TestSpecVerify(t *testing.T) {
	for _, v := range loadVectors(t, "verify.json") {
		t.Run(v.Src+"/ttl="+time.Duration(v.TTLSec*int(time.Second)).String(), func(t *testing.T) {
			plain, err := openSpecToken([]byte(v.Token), []*Key{mustKey(t, v.Secret)}, v.Now, time.Duration(v.TTLSec)*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if string(plain) != v.Src {
				t.Errorf("plaintext %q, want %q", plain, v.Src)
			}
		})
	}
}

func TestSpecInvalid(t *testing.T) {
	// The error each invalid vector must give. A token with a valid HMAC
	// but bad padding is malformed, not a wrong key.
	want := map[string]error{
		"incorrect mac":  ErrWrongKey,
		"too short":      ErrMalformed,
		"invalid base64": ErrMalformed,
		"payload size not multiple of block size": ErrMalformed,
		"payload padding error":                   ErrMalformed,
		"far-future TS (unacceptable clock skew)": ErrExpired,
		"expired TTL":                         ErrExpired,
		"incorrect IV (causes padding error)": ErrMalformed,
		"very short payload size":             ErrMalformed,
		"super short payload size":            ErrMalformed,
	}
	vectors := loadVectors(t, "invalid.json")
	if len(vectors) != len(want) {
		t.Fatalf("%d invalid vectors, %d expectations", len(vectors), len(want))
	}
	for _, v := range vectors {
		t.Run(v.Desc, func(t *testing.T) {
			plain, err := openSpecToken([]byte(v.Token), []*Key{mustKey(t, v.Secret)}, v.Now, time.Duration(v.TTLSec)*time.Second)
			if plain != nil {
				t.Errorf("returned a plaintext of %d bytes", len(plain))
			}
			if !errors.Is(err, want[v.Desc]) {
				t.Errorf("error %v, want %v", err, want[v.Desc])
			}
		})
	}
}

// TestBitFlips flips every bit of a sealed vault's token, decoded, and
// re-encodes it: each must fail with ErrWrongKey or ErrMalformed and give
// no vault.
func TestBitFlips(t *testing.T) {
	key := mustKey(t, testKeyText)
	dir := t.TempDir()
	path := filepath.Join(dir, "v.enc")
	if err := Seal(path, map[string]any{"db": map[string]any{"password": "flip-me-secret"}}, key); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.URLEncoding.DecodeString(string(good))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[error]int{}
	for i := range len(raw) * 8 {
		flipped := bytes.Clone(raw)
		flipped[i/8] ^= 1 << (i % 8)
		tok := []byte(base64.URLEncoding.EncodeToString(flipped))
		v, err := open(context.Background(), "v.enc", func() ([]byte, error) { return bytes.Clone(tok), nil }, []*Key{key}, newOptions[Option](nil))
		if v != nil {
			t.Fatalf("bit %d: flipped token opened", i)
		}
		switch {
		case errors.Is(err, ErrWrongKey):
			counts[ErrWrongKey]++
		case errors.Is(err, ErrMalformed):
			counts[ErrMalformed]++
		default:
			t.Fatalf("bit %d: error %v, want ErrWrongKey or ErrMalformed", i, err)
		}
		assertNoLeak(t, "error", err.Error(), "flip-me-secret")
	}
	// Only the 8 bits of the version byte make a malformed token.
	if counts[ErrMalformed] != 8 || counts[ErrWrongKey] != len(raw)*8-8 {
		t.Errorf("got %d malformed and %d wrong-key errors, want 8 and %d", counts[ErrMalformed], counts[ErrWrongKey], len(raw)*8-8)
	}
}

func TestTokenStructure(t *testing.T) {
	key := mustKey(t, testKeyText)
	tok, err := sealToken([]byte(`{}`), key, time.Unix(1_700_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":               {},
		"plaintext JSON":      []byte(`{"a":"b"}`),
		"truncated":           tok[:len(tok)-4],
		"unpadded":            bytes.TrimRight(tok, "="),
		"standard alphabet":   bytes.ReplaceAll(tok, []byte("A"), []byte("+")),
		"CR inside":           append(append(bytes.Clone(tok[:40]), '\r', '\n'), tok[42:]...),
		"one character short": tok[1:],
		"binary garbage":      {0x00, 0xff, 0x80, 0x01},
		"wrong version":       []byte(base64.URLEncoding.EncodeToString(append([]byte{0x81}, mustDecode(t, tok)[1:]...))),
		"non-canonical pad":   nonCanonical(t, tok),
		"three pad chars":     append(bytes.Clone(tok[:len(tok)-4]), "A==="...),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			if plain, _, _, err := openToken(bytes.Clone(tok), []*Key{key}); err == nil || errors.Is(err, errWrongKey) {
				t.Errorf("openToken = %q, %v; want a structural error", plain, err)
			}
		})
	}
	plain, idx, ts, err := openToken(bytes.Clone(tok), []*Key{GenerateKey(), key})
	if err != nil || string(plain) != "{}" || idx != 1 || ts.Unix() != 1_700_000_000 {
		t.Errorf("openToken(good) = %q, %d, %v, %v", plain, idx, ts, err)
	}
}

// TestSealTokenMatchesFernetGo seals plaintexts of every length around
// the block and base64 group boundaries, and ones large enough for
// sealToken's second goroutine, both with sealToken and with fernet-go's
// EncryptAndSignAtTime under the same key, time and IV: the tokens must
// be the same bytes.
func TestSealTokenMatchesFernetGo(t *testing.T) {
	key := GenerateKey()
	now := time.Unix(1_750_000_000, 0)
	sizes := []int{parallelMin - 1, parallelMin, parallelMin + 1, parallelMin + 17, 3 * parallelMin}
	for n := range 100 {
		sizes = append(sizes, n)
	}
	saved := rand.Reader
	defer func() { rand.Reader = saved }()
	for _, n := range sizes {
		plain := make([]byte, n)
		iv := make([]byte, aes.BlockSize)
		for _, b := range [][]byte{plain, iv} {
			if _, err := saved.Read(b); err != nil {
				t.Fatal(err)
			}
		}
		rand.Reader = bytes.NewReader(iv)
		got, err := sealToken(plain, key, now)
		if err != nil {
			t.Fatal(err)
		}
		rand.Reader = bytes.NewReader(iv)
		want, err := fernet.EncryptAndSignAtTime(plain, key.fernetKey(), now)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d bytes of plaintext: sealToken and fernet-go differ", n)
		}
	}
}

// authenticToken builds a token with a valid HMAC under key around any
// ciphertext, as only a key holder (or a fuzzer with the key) can.
func authenticToken(key *Key, ts uint64, iv, ciphertext []byte) []byte {
	raw := []byte{tokenVersion}
	raw = binary.BigEndian.AppendUint64(raw, ts)
	raw = append(raw, iv...)
	raw = append(raw, ciphertext...)
	mac := hmac.New(sha256.New, key.fernetKey()[:16])
	mac.Write(raw)
	return []byte(base64.URLEncoding.EncodeToString(mac.Sum(raw)))
}

// FuzzOpenToken checks openToken against fernet-go on tokens with a valid
// HMAC and any ciphertext (empty, short, unaligned, badly padded): it never
// panics, it fails with a malformed-token error where the structure is
// wrong, and where both accept they agree on the plaintext. They differ,
// by design, on padding bytes of 0 or over 16, which fernet-go accepts and
// openToken (like Python) refuses.
func FuzzOpenToken(f *testing.F) {
	f.Add(uint64(1700000000), make([]byte, 16), []byte{})
	f.Add(uint64(0), make([]byte, 16), make([]byte, 15))
	f.Add(uint64(1), make([]byte, 16), make([]byte, 16))
	f.Add(uint64(1), []byte("0123456789abcdef"), []byte("0123456789abcdef0123456789abcdef"))
	key := mustKey(f, testKeyText)
	f.Fuzz(func(t *testing.T, ts uint64, iv, ciphertext []byte) {
		if len(iv) != 16 {
			return
		}
		tok := authenticToken(key, ts, iv, ciphertext)
		plain, idx, sealed, err := openToken(bytes.Clone(tok), []*Key{key})
		if len(ciphertext) == 0 || len(ciphertext)%16 != 0 {
			if err == nil || errors.Is(err, errWrongKey) {
				t.Fatalf("a %d-byte ciphertext gave %v", len(ciphertext), err)
			}
			return
		}
		want := fernet.VerifyAndDecrypt(tok, 0, []*fernet.Key{key.fernetKey()})
		if err != nil {
			if errors.Is(err, errWrongKey) || idx != 0 {
				t.Fatalf("an authentic token gave %v (key %d)", err, idx)
			}
			// Refused padding: fernet-go may accept it only for a pad
			// byte of 0 or over 16.
			if last := plainLastByte(key, tok); want != nil && last >= 1 && last <= 16 {
				t.Fatalf("openToken refused a padding fernet-go accepts: pad byte %d", last)
			}
			return
		}
		if want == nil || !bytes.Equal(plain, want) || sealed.Unix() != int64(ts) {
			t.Fatalf("openToken and fernet-go disagree: %q vs %q", plain, want)
		}
	})
}

// plainLastByte decrypts tok's last block to read its padding byte.
func plainLastByte(key *Key, tok []byte) byte {
	raw, _ := base64.URLEncoding.DecodeString(string(tok))
	ct := bytes.Clone(raw[tokenHeader : len(raw)-sha256.Size])
	block, _ := aes.NewCipher(key.fernetKey()[16:])
	cipher.NewCBCDecrypter(block, raw[9:tokenHeader]).CryptBlocks(ct, ct)
	return ct[len(ct)-1]
}

func mustDecode(t *testing.T, tok []byte) []byte {
	b, err := base64.URLEncoding.DecodeString(string(tok))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nonCanonical changes the bits that padding leaves unused in the last
// base64 character; a lenient decoder gives the same bytes.
func nonCanonical(t *testing.T, tok []byte) []byte {
	b := bytes.Clone(tok)
	i := bytes.IndexByte(b, '=') - 1
	if i < 0 {
		t.Skip("token has no padding")
	}
	v := base64URLValue[b[i]] | 1
	b[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[v]
	if bytes.Equal(b, tok) {
		t.Fatal("no change")
	}
	return b
}
