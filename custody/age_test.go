package custody_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

// TestAgeInterop checks the wrapped keys against Debian's age, both ways:
// what credvault wraps opens with "age -d -i", and a key wrapped with
// "age -r" opens in credvault, with identities made by age-keygen.
func TestAgeInterop(t *testing.T) {
	ageBin, keygen := needAge(t, "age"), needAge(t, "age-keygen")
	dir := t.TempDir()
	idFile := filepath.Join(dir, "id.txt")
	if out, err := exec.Command(keygen, "-o", idFile).CombinedOutput(); err != nil {
		t.Fatalf("age-keygen: %v\n%s", err, out)
	}
	pub, err := exec.Command(keygen, "-y", idFile).Output()
	if err != nil {
		t.Fatal(err)
	}
	rc := recipient(t, strings.TrimSpace(string(pub)), "ci")

	t.Run("credvault wraps, age unwraps", func(t *testing.T) {
		path, _ := sealFor(t, dir, nil, rc)
		f, err := custody.ReadFile(custody.KeysPath(path))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(ageBin, "-d", "-i", idFile)
		cmd.Stdin = bytes.NewReader(f.Recipients[0].Wrapped)
		raw, err := cmd.Output()
		if err != nil {
			t.Fatalf("age -d: %v", err)
		}
		key, err := vault.ParseKey(string(raw))
		if err != nil {
			t.Fatal(err)
		}
		if string(raw) != key.Encode() {
			t.Errorf("age -d gives %d bytes, want the key in Python's form alone", len(raw))
		}
		if got := get(t, path, []*vault.Key{key}); got != "fake-canary-pw" {
			t.Errorf("the unwrapped key opens the vault to %q", got)
		}
	})
	t.Run("age wraps, credvault unwraps", func(t *testing.T) {
		key := vault.GenerateKey()
		path := filepath.Join(dir, "by-age.enc")
		if err := vault.Seal(path, map[string]any{"db": map[string]any{"password": "fake-canary-pw"}}, key); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(ageBin, "-r", rc.ID)
		cmd.Stdin = strings.NewReader(key.Encode() + "\n")
		wrapped, err := cmd.Output()
		if err != nil {
			t.Fatalf("age -r: %v", err)
		}
		rc := rc
		rc.Wrapped = wrapped
		data, err := (&custody.File{Key: key.Fingerprint(), Recipients: []custody.Recipient{rc}}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(custody.KeysPath(path), data, 0o644)
		identity, _ := os.ReadFile(idFile)
		for _, res := range []custody.Resolver{
			{Identities: []string{idFile}},
			{Getenv: env{"CREDVAULT_AGE_KEY": string(identity)}.get},
		} {
			kr, err := res.Resolve(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if kr.Keys[0].Fingerprint() != key.Fingerprint() {
				t.Errorf("unwrapped key %v, want %v", kr.Keys[0], key)
			}
		}
	})
}

// ageFile returns the header of an age file with the given stanza lines,
// and a fake body: enough for the recipients file's checks.
func ageFile(stanzas ...string) []byte {
	var b strings.Builder
	b.WriteString("age-encryption.org/v1\n")
	for _, s := range stanzas {
		b.WriteString("-> " + s + "\nZmFrZSBib2R5\n")
	}
	b.WriteString("--- bWFj\nfake payload")
	return []byte(b.String())
}

func TestFileFormat(t *testing.T) {
	blob1, blob2 := ageFile("X25519 c2hhcmUx"), ageFile("X25519 c2hhcmUy")
	f := &custody.File{Key: "0123456789ab", Recipients: []custody.Recipient{
		{Type: custody.KMS, ID: "awskms://alias/ci?region=eu-west-1", Label: "ci", Wrapped: []byte("kms-blob")},
		{Type: custody.Age, ID: "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj", Label: "bob", Wrapped: blob2},
		{Type: custody.Age, ID: "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg", Label: "alice", Wrapped: blob1},
	}}
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "credvault": "keys/v1",
  "key": "0123456789ab",
  "recipients": [
    {
      "type": "age",
      "id": "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg",
      "label": "alice",
      "wrapped": "` + base64.StdEncoding.EncodeToString(blob1) + `"
    },
    {
      "type": "age",
      "id": "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj",
      "label": "bob",
      "wrapped": "` + base64.StdEncoding.EncodeToString(blob2) + `"
    },
    {
      "type": "kms",
      "id": "awskms://alias/ci?region=eu-west-1",
      "label": "ci",
      "wrapped": "` + base64.StdEncoding.EncodeToString([]byte("kms-blob")) + `"
    }
  ]
}
`
	if string(data) != want {
		t.Errorf("Marshal:\n%s\nwant:\n%s", data, want)
	}
	back, err := custody.ParseFile(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := back.Marshal()
	if !bytes.Equal(again, data) {
		t.Error("Marshal of the parsed file differs")
	}

	for _, tc := range []struct{ name, edit, want string }{
		{"format", `"keys/v1"=>"keys/v2"`, `format "keys/v2"`},
		{"fingerprint", `"0123456789ab"=>"xyz"`, "not a key fingerprint"},
		{"type", `"type": "kms"=>"type": "pgp"`, `type "pgp"`},
		{"age id", `age1zvkyg=>age1zvkyh`, "is not an age X25519 recipient"},
		{"duplicate id", `age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj=>age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg`, "listed twice"},
		{"duplicate label", `"bob"=>"alice"`, `label "alice" is used twice`},
		{"unknown field", `"label": "ci"=>"label": "ci", "profile": "alice"`, `unknown field "profile"`},
		{"empty wrapped", `"` + base64.StdEncoding.EncodeToString([]byte("kms-blob")) + `"=>""`, "wrapped key is 0 bytes"},
		{"base64key", `awskms://alias/ci?region=eu-west-1=>base64key://smGbjm71Nxd1Ig5FS0wj9SlbzAIrnolCz9bQQ6uAhl4=`, "hold the key itself"},
		{"not json", `{=>[`, "not a recipients file"},
		{"control label", `"bob"=>"b\u0007b"`, "control character"},
		{"bidi label", `"bob"=>"b\u202eb"`, "U+202E"},
		{"label is an ID", `"bob"=>"age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg"`, "looks like a recipient ID"},
		{"hidden recipient", base64.StdEncoding.EncodeToString(blob2) + "=>" + base64.StdEncoding.EncodeToString(ageFile("X25519 c2hhcmUy", "X25519 bWFsbG9yeQ")), "an age file for 2 recipients"},
		{"other stanza", base64.StdEncoding.EncodeToString(blob2) + "=>" + base64.StdEncoding.EncodeToString(ageFile("scrypt c2FsdA 18")), `stanza of type "scrypt"`},
		{"not age", base64.StdEncoding.EncodeToString(blob2) + "=>" + base64.StdEncoding.EncodeToString([]byte("age-blob")), "not a binary age file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, to, _ := strings.Cut(tc.edit, "=>")
			bad := strings.Replace(string(data), from, to, 1)
			_, err := custody.ParseFile([]byte(bad))
			contains(t, tc.name, err, tc.want)
		})
	}
	t.Run("no recipients", func(t *testing.T) {
		_, err := custody.ParseFile([]byte(`{"credvault": "keys/v1", "key": "0123456789ab", "recipients": []}`))
		contains(t, "empty", err, "no recipients")
	})
}

func TestNewRecipient(t *testing.T) {
	kms := newFakeKMS("ci")
	for _, tc := range []struct{ id, label, want string }{
		{"age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg", "alice", ""},
		{"fakekms://ci", "ci", ""},
		{"age1pq1xyz", "", "post-quantum"},
		{"ssh-ed25519 AAAAC3Nza", "", "SSH keys are not supported"},
		{"bob@example.com", "", "neither an age recipient (age1...) nor a KMS key URL"},
		{"gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k", "", "no KMS driver for gcpkms:// URLs: this program supports fakekms://"},
		{"fakekms://ci?x=1", "", "fakekms: no parameters"},
		{"awskms://arn:aws:kms:eu-west-1:111122223333:key/k", "", "three slashes: awskms:///arn:aws:kms"},
		{"fakekms://ci", "line\nbreak", "control character"},
	} {
		_, err := custody.NewRecipient(tc.id, tc.label, []custody.Driver{kms})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.id, err)
		case tc.want != "":
			contains(t, tc.id, err, tc.want)
		}
	}
}

// TestHiddenRecipient: bob's wrapped key replaced by one that "age -r bob
// -r mallory" made would let mallory open the vault while the file lists
// bob alone, and audit her as bob. The file is refused when read.
func TestHiddenRecipient(t *testing.T) {
	ageBin := needAge(t, "age")
	dir := t.TempDir()
	alice, aliceFile := identity(t, dir, "alice.txt")
	bob, _ := identity(t, dir, "bob.txt")
	mallory, malloryFile := identity(t, dir, "mallory.txt")
	path, _ := sealFor(t, dir, nil, recipient(t, alice.Recipient().String(), "alice"), recipient(t, bob.Recipient().String(), "bob"))
	kr, err := (&custody.Resolver{Identities: []string{aliceFile}}).Resolve(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ageBin, "-r", bob.Recipient().String(), "-r", mallory.Recipient().String())
	cmd.Stdin = strings.NewReader(kr.Keys[0].Encode())
	wrapped, err := cmd.Output()
	if err != nil {
		t.Fatalf("age -r -r: %v", err)
	}
	keysPath := custody.KeysPath(path)
	data, _ := os.ReadFile(keysPath)
	f, _ := custody.ParseFile(data)
	old := base64.StdEncoding.EncodeToString(f.Recipients[f.Find("bob")].Wrapped)
	os.WriteFile(keysPath, bytes.Replace(data, []byte(old), []byte(base64.StdEncoding.EncodeToString(wrapped)), 1), 0o644)

	_, err = custody.ReadFile(keysPath)
	contains(t, "read", err, `("bob"): the wrapped key is an age file for 2 recipients`)
	_, err = (&custody.Resolver{Identities: []string{malloryFile}}).Resolve(context.Background(), path)
	contains(t, "mallory", err, "an age file for 2 recipients")
}

// TestSwappedWrappedKeys: alice's and bob's wrapped keys swapped in the
// file: alice's identity unwraps the key listed for bob, which would be
// audited as bob. It is refused, naming whose identity it was.
func TestSwappedWrappedKeys(t *testing.T) {
	dir := t.TempDir()
	alice, aliceFile := identity(t, dir, "alice.txt")
	bob, _ := identity(t, dir, "bob.txt")
	path, _ := sealFor(t, dir, nil, recipient(t, alice.Recipient().String(), "alice"), recipient(t, bob.Recipient().String(), "bob"))
	keysPath := custody.KeysPath(path)
	f, err := custody.ReadFile(keysPath)
	if err != nil {
		t.Fatal(err)
	}
	a, b := f.Find("alice"), f.Find("bob")
	f.Recipients[a].Wrapped, f.Recipients[b].Wrapped = f.Recipients[b].Wrapped, f.Recipients[a].Wrapped
	data, _ := f.Marshal()
	os.WriteFile(keysPath, data, 0o644)
	_, err = (&custody.Resolver{Identities: []string{aliceFile}}).Resolve(context.Background(), path)
	contains(t, "swapped", err, `age recipient "bob": the recipients file is inconsistent: the key wrapped for this recipient unwraps with the identity of age recipient "alice"`)
}
