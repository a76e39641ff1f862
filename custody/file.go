package custody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/credvault/vault"
)

// Format is the version tag of the recipients file, its "credvault" field.
const Format = "keys/v1"

// FileMode is the mode a recipients file is written with, 0644. The file
// holds no secret (the key in it is wrapped for each recipient) and is meant
// to be committed, so it is readable by all like any other source file: a
// CI job or a teammate's tool running as another user can read it, and git,
// which records only the executable bit, would not keep 0600 anyway.
const FileMode fs.FileMode = 0o644

// maxFileSize bounds a recipients file: thousands of recipients.
const maxFileSize = 1 << 20

// KeysPath returns the recipients file of the vault at vaultPath:
// vaultPath + ".keys", e.g. "credentials.enc.keys".
func KeysPath(vaultPath string) string { return vaultPath + ".keys" }

// A Type is the kind of a recipient.
type Type string

// The recipient types.
const (
	// Age is an age X25519 recipient, "age1...": a person or a CI
	// identity holding the matching "AGE-SECRET-KEY-1..." identity.
	Age Type = "age"
	// KMS is a key in a key management service, named by a
	// gocloud.dev/secrets URL ("awskms:///arn:aws:kms:...", "gcpkms://...",
	// "azurekeyvault://...", "hashivault://..."), reached with the ambient
	// credentials of whoever opens the vault.
	KMS Type = "kms"
)

// A Recipient is one way to the vault's key: the key, wrapped so that only
// the holder of the recipient's identity, or of access to its KMS key, can
// unwrap it.
type Recipient struct {
	Type Type `json:"type"`
	// ID is the age recipient ("age1...") or the KMS key's URL. It is
	// public, and names no user's local state (no AWS profile).
	ID string `json:"id"`
	// Label names the recipient for people ("alice", "ci-prod"); it is
	// what status and audit events show. It may be empty.
	Label string `json:"label"`
	// Wrapped is the key wrapped for this recipient: an age file (binary,
	// not armored), or the KMS ciphertext. In the file it is standard
	// base64.
	Wrapped []byte `json:"wrapped"`
}

// Name returns the label, or the ID for a recipient without one.
func (r Recipient) Name() string {
	if r.Label != "" {
		return r.Label
	}
	return r.ID
}

// String describes the recipient without its wrapped key:
// `age recipient "alice"`, `kms recipient "ci" (awskms:///...)`.
func (r Recipient) String() string {
	switch {
	case r.Label == "":
		return fmt.Sprintf("%s recipient %s", r.Type, r.ID)
	case r.Type == KMS:
		return fmt.Sprintf("%s recipient %q (%s)", r.Type, r.Label, r.ID)
	}
	return fmt.Sprintf("%s recipient %q", r.Type, r.Label)
}

// describe names the recipient fully, for audit events: its type, label
// and ID, `age recipient "carol" (age1...)`.
func (r Recipient) describe() string {
	if r.Label == "" {
		return fmt.Sprintf("%s recipient %s", r.Type, r.ID)
	}
	return fmt.Sprintf("%s recipient %q (%s)", r.Type, r.Label, r.ID)
}

// A File is a recipients file, <vault>.keys: the vault's key wrapped for
// each recipient, and the key's fingerprint. In JSON:
//
//	{
//	  "credvault": "keys/v1",
//	  "key": "<fingerprint of the wrapped key>",
//	  "recipients": [
//	    {"type": "age", "id": "age1...", "label": "alice", "wrapped": "<base64>"},
//	    {"type": "kms", "id": "awskms:///arn:...", "label": "ci", "wrapped": "<base64>"}
//	  ]
//	}
//
// It holds no secret: it is meant to be committed, so that who can open the
// vault is visible in code review and in history. [File.Marshal] writes the
// recipients sorted by type and ID, one field per line, so that adding or
// removing one changes only its own lines.
type File struct {
	// Key is the fingerprint of the wrapped key ([vault.Key.Fingerprint]).
	Key        string
	Recipients []Recipient
}

type fileJSON struct {
	Credvault  string      `json:"credvault"`
	Key        string      `json:"key"`
	Recipients []Recipient `json:"recipients"`
}

// ReadFile reads and checks the recipients file at path. A missing file
// gives an error that wraps fs.ErrNotExist. Symbolic links are followed;
// anything but a regular file (a named pipe, a device) is refused without
// waiting on it.
func ReadFile(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNonblock, 0)
	var info fs.FileInfo
	if err == nil {
		defer f.Close()
		info, err = f.Stat()
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &fileError{msg: fmt.Sprintf("custody: recipients file %s does not exist", path), err: err}
		}
		return nil, &fileError{msg: fmt.Sprintf("custody: cannot read recipients file %s: %v", path, err), err: err}
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("custody: recipients file %s is not a regular file (%s): restore it from version control", path, kind(info.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("custody: cannot read recipients file %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("custody: recipients file %s is larger than %d KiB: is it the right file?", path, maxFileSize>>10)
	}
	file, err := ParseFile(data)
	if err != nil {
		return nil, fmt.Errorf("custody: recipients file %s: %s: fix it, or restore it from version control", path, strings.TrimPrefix(err.Error(), "custody: "))
	}
	return file, nil
}

// kind names a file mode that is not a regular file's.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a file"
}

type fileError struct {
	msg string
	err error
}

func (e *fileError) Error() string { return e.msg }
func (e *fileError) Unwrap() error { return e.err }

// ParseFile parses and checks a recipients file: its format tag, the
// fingerprint, and each recipient's type, ID, label and wrapped key. IDs
// must be unique, and so must labels that are not empty. Unknown fields are
// refused: a newer format says so with a new tag.
func ParseFile(data []byte) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var fj fileJSON
	if err := dec.Decode(&fj); err != nil {
		return nil, fmt.Errorf("custody: not a recipients file: %v", err)
	}
	if dec.More() {
		return nil, errors.New("custody: not a recipients file: data after the JSON object")
	}
	if fj.Credvault != Format {
		return nil, fmt.Errorf("custody: format %q, want %q: is it a recipients file of a newer credvault?", fj.Credvault, Format)
	}
	f := &File{Key: fj.Key, Recipients: fj.Recipients}
	if err := f.check(); err != nil {
		return nil, err
	}
	return f, nil
}

// Marshal returns the file as it is written: indented JSON, recipients
// sorted by type and ID, a final newline.
func (f *File) Marshal() ([]byte, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	rs := slices.Clone(f.Recipients)
	sortRecipients(rs)
	out, err := json.MarshalIndent(fileJSON{Credvault: Format, Key: f.Key, Recipients: rs}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	return append(out, '\n'), nil
}

func sortRecipients(rs []Recipient) {
	slices.SortFunc(rs, func(a, b Recipient) int {
		if c := strings.Compare(string(a.Type), string(b.Type)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// Find returns the index of the recipient whose ID is s, or else of the
// one whose label is s, or -1. An ID is preferred: labels cannot look like
// IDs (see [NewRecipient]), but a file edited by hand is read as it is.
func (f *File) Find(s string) int {
	if i := slices.IndexFunc(f.Recipients, func(r Recipient) bool { return r.ID == s }); i >= 0 {
		return i
	}
	if s == "" {
		return -1
	}
	return slices.IndexFunc(f.Recipients, func(r Recipient) bool { return r.Label == s })
}

const (
	maxLabel   = 64
	maxWrapped = 8 << 10
)

// check validates the file's fields; its errors name recipients by
// position and label, never by wrapped key.
func (f *File) check() error {
	if !isFingerprint(f.Key) {
		return fmt.Errorf("custody: key %q is not a key fingerprint (12 hex digits)", f.Key)
	}
	if len(f.Recipients) == 0 {
		return errors.New("custody: no recipients")
	}
	ids := map[string]bool{}
	labels := map[string]bool{}
	for i, r := range f.Recipients {
		where := fmt.Sprintf("recipient %d", i+1)
		if err := checkLabel(r.Label); err != nil {
			return fmt.Errorf("custody: %s: %v", where, err)
		}
		if r.Label != "" {
			where += fmt.Sprintf(" (%q)", r.Label)
		}
		if err := checkID(r.Type, r.ID); err != nil {
			return fmt.Errorf("custody: %s: %v", where, err)
		}
		if len(r.Wrapped) == 0 || len(r.Wrapped) > maxWrapped {
			return fmt.Errorf("custody: %s: the wrapped key is %d bytes, want 1 to %d", where, len(r.Wrapped), maxWrapped)
		}
		if r.Type == Age {
			if err := checkAgeHeader(r.Wrapped); err != nil {
				return fmt.Errorf("custody: %s: %v", where, err)
			}
		}
		if ids[r.ID] {
			return fmt.Errorf("custody: %s: %s is listed twice", where, r.ID)
		}
		ids[r.ID] = true
		if r.Label != "" && labels[r.Label] {
			return fmt.Errorf("custody: %s: label %q is used twice", where, r.Label)
		}
		labels[r.Label] = true
	}
	return nil
}

// checkID checks the syntax of a recipient ID of type t, without a driver:
// an age X25519 recipient, or a URL with a scheme and a key.
func checkID(t Type, id string) error {
	if vault.LooksLikeKey(id) {
		return errSecretID
	}
	switch t {
	case Age:
		_, err := parseAgeRecipient(id)
		return err
	case KMS:
		_, err := parseKMSURL(id)
		return err
	}
	return fmt.Errorf("type %q is neither %q nor %q", t, Age, KMS)
}

// errSecretID is the error for a key or an age identity given as a
// recipient: the error does not quote it.
var errSecretID = errors.New("the ID is a secret (a vault key or an age identity), not a recipient: a recipient is the public key of an age identity (age1..., which \"age-keygen -y FILE\" prints) or a KMS key URL")

// checkLabel checks a recipient's label. Its errors never quote the label:
// it may be a key given in the wrong place.
func checkLabel(label string) error {
	if len(label) > maxLabel || !utf8.ValidString(label) {
		return fmt.Errorf("the label is longer than %d bytes or not UTF-8", maxLabel)
	}
	if vault.LooksLikeKey(label) {
		return errors.New("the label is a key or an age identity: a label names the recipient for people, such as alice or ci")
	}
	for _, r := range label {
		if r != ' ' && (unicode.IsControl(r) || unicode.IsSpace(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)) {
			// Cf holds the bidirectional overrides (U+202E) and the
			// zero-width characters, which make a label read as another.
			return fmt.Errorf("the label holds the invisible or control character %U: use letters, digits, spaces and punctuation", r)
		}
	}
	if strings.TrimSpace(label) != label {
		return errors.New("the label starts or ends with a space")
	}
	if strings.HasPrefix(strings.ToLower(label), "age1") || strings.Contains(label, "://") {
		return errors.New(`the label looks like a recipient ID (it starts with "age1" or holds "://"): a label names the recipient for people, such as alice or ci`)
	}
	return nil
}

func isFingerprint(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// matches reports whether the recipients file records key.
func (f *File) matches(key *vault.Key) bool { return f.Key == key.Fingerprint() }
