package vault

import (
	"bytes"
	"context"
	"fmt"
	"io"
)

// OpenBytes is Open for a vault held in memory: data is the contents of a
// vault file, fetched from object storage, a secret manager or a database.
// name is what errors and audit events call the vault, such as the object's
// key. data is neither changed nor retained. Like Open, it refuses more
// than [MaxVaultSize] bytes and ignores whitespace around the token. As in
// [OpenFS] and [SealTo], where the vault is comes first, its name second.
func OpenBytes(data []byte, name string, keys []*Key, opts ...OpenOption) (*Vault, error) {
	return OpenBytesContext(context.Background(), data, name, keys, opts...)
}

// OpenBytesContext is OpenBytes with a context, which the Auditor receives
// (see [Auditor]).
func OpenBytesContext(ctx context.Context, data []byte, name string, keys []*Key, opts ...OpenOption) (*Vault, error) {
	read := func() ([]byte, error) {
		if len(data) > MaxVaultSize {
			return nil, tooLarge(name, int64(len(data)))
		}
		// Open decrypts in place, and the opened vault's values live in
		// the buffer: a copy, so that data is neither changed nor kept.
		return bytes.Clone(data), nil
	}
	return open(ctx, name, read, keys, newOptions(opts))
}

// SealTo is Seal for a vault kept elsewhere than in a file: it encrypts
// secrets under key and writes the vault, one Fernet token and nothing
// else, to w in a single Write, for a program that stores it in object
// storage or builds one in memory. name is what errors and audit events
// call the vault. secrets is what [Seal] takes; the Fernet timestamp is the
// current time ([WithClock]). A vault that Open would refuse (over
// [MaxVaultSize], nested over 10,000 levels) is not written.
//
// It is audited as OpSeal before anything is written, so that a refused
// audit record writes nothing; if the write then fails, a second event
// records the failure. What w does with a failed write (a partial upload)
// is w's concern.
func SealTo(w io.Writer, name string, secrets any, key *Key, opts ...Option) error {
	return SealToContext(context.Background(), w, name, secrets, key, opts...)
}

// SealToContext is SealTo with a context, which the Auditor receives (see
// [Auditor]).
func SealToContext(ctx context.Context, w io.Writer, name string, secrets any, key *Key, opts ...Option) error {
	if ctx == nil {
		return errNilContext
	}
	if w == nil {
		return fmt.Errorf("vault: cannot seal %s to a nil writer: pass the io.Writer to write the vault to", name)
	}
	o := newOptions(opts)
	if !key.valid() {
		return fmt.Errorf("vault: cannot seal %s without a key: make one with GenerateKey or ParseKey", name)
	}
	events := []Event{{Op: OpSeal, Vault: name, KeyIndex: -1, SealKey: key.Fingerprint()}}
	tok, err := sealBytes(name, secrets, key, o)
	if err != nil {
		return o.auditFailure(ctx, events, err)
	}
	if err := o.auditAll(ctx, events); err != nil {
		return err
	}
	if _, err := w.Write(tok); err != nil {
		return o.auditFailure(ctx, events, &vaultError{msg: fmt.Sprintf("vault: %s: cannot write the sealed vault: %v", name, err), err: err})
	}
	return nil
}

// sealBytes encodes secrets and seals them under key at the options' time,
// refusing a token larger than Open reads.
func sealBytes(name string, secrets any, key *Key, o *options) ([]byte, error) {
	plain, err := sealDocument(secrets)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	if n := tokenSize(len(plain)); n > MaxVaultSize {
		return nil, fmt.Errorf("vault: %s: the vault would be %d bytes, more than the %d MiB Open accepts (MaxVaultSize): nothing was written; keep large files outside the vault, and store their path or URL in it", name, n, MaxVaultSize>>20)
	}
	return sealToken(plain, key, o.now())
}
