package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// MaxVaultSize is the largest vault file Open reads, 64 MiB: sixteen times a
// vault of 100,000 secrets. A larger file is refused before it is read, so a
// wrong path (a disk image, a log) fails fast instead of filling memory.
const MaxVaultSize = 64 << 20

// ErrLocked means another writer held the vault's write lock for longer
// than the lock timeout (see [WithLockTimeout]), or until the context of
// the write was done (the error then wraps the context's error too); the
// vault is unchanged.
var ErrLocked = errors.New("vault: locked by another writer")

// readVault reads a vault file, following symbolic links, and refuses
// directories, named pipes, devices and files over MaxVaultSize before
// reading them. It never waits on a named pipe (see openRegular).
func readVault(path string) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(path, f)
}

// openRegular opens the regular file at path for reading. It refuses
// anything else, naming what it is, without waiting: a named pipe is opened
// non-blocking, so that a pipe with no writer does not hang the caller, and
// a device is refused from its stat, before it is opened.
func openRegular(path string) (*os.File, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, readError(path, err)
	}
	if err := checkRegular(path, info); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|oNonblock, 0)
	if err != nil {
		return nil, readError(path, err)
	}
	// The path may have been replaced between the stat and the open.
	if info, err = f.Stat(); err != nil {
		f.Close()
		return nil, readError(path, err)
	}
	if err := checkRegular(path, info); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkRegular refuses a file that is not a regular file: a directory, a
// named pipe, a device or a socket is never a vault.
func checkRegular(name string, info fs.FileInfo) error {
	mode := info.Mode()
	switch {
	case mode.IsRegular():
		return nil
	case mode.IsDir():
		return fmt.Errorf("vault: %s is a directory, not a vault file: give the path of the file itself", name)
	}
	return fmt.Errorf("vault: %s is %s, not a vault file: give the path of a regular file", name, fileKind(mode))
}

// fileKind names the kind of a file that is not a regular file.
func fileKind(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a device"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode.IsDir():
		return "a directory"
	}
	return "not a regular file"
}

// readVaultFS is readVault for a file in fsys, such as an embed.FS.
func readVaultFS(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, readError(name, err)
	}
	defer f.Close()
	return readLimited(name, f)
}

func readLimited(name string, f fs.File) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, readError(name, err)
	}
	if err := checkRegular(name, info); err != nil {
		return nil, err
	}
	if info.Size() > MaxVaultSize {
		return nil, tooLarge(name, info.Size())
	}
	// Read at most one byte more than the limit: a pipe or a file that grows
	// has no trustworthy size.
	buf := make([]byte, 0, info.Size()+1)
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > MaxVaultSize {
			return nil, tooLarge(name, int64(len(buf)))
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, readError(name, err)
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

func tooLarge(name string, size int64) error {
	return fmt.Errorf("vault: %s is %d bytes, more than the %d MiB a vault may be: is it the right file?", name, size, MaxVaultSize>>20)
}

func readError(name string, err error) error {
	err = unwrapPath(err)
	hint := "check the file's permissions"
	if errors.Is(err, fs.ErrNotExist) {
		if target, lerr := os.Readlink(name); lerr == nil {
			return &vaultError{msg: fmt.Sprintf("vault: cannot read %s: it is a symbolic link to %s, which leads to no file: fix or remove the link", name, target), err: err}
		}
		hint = "check the vault path, or seal a new vault there"
	}
	return &vaultError{msg: fmt.Sprintf("vault: cannot read %s: %v: %s", name, err, hint), err: err}
}

// writeTarget returns the file a write to path replaces: path itself, or,
// when path is a symbolic link, the file it points to, so that the link
// survives and the file it names is replaced atomically.
func writeTarget(path string) (string, error) {
	info, err := os.Lstat(path)
	if err != nil || info.Mode()&fs.ModeSymlink == 0 {
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", &vaultError{msg: fmt.Sprintf("vault: %s is a symbolic link that cannot be followed: %v: fix or remove the link", path, err), err: err}
	}
	return target, nil
}

// checkReplaceable returns nil if Seal may replace target, the file a write
// to path replaces (see writeTarget): a file that does not exist, an empty
// file, or a vault (any Fernet token: the key is not needed to tell). It
// refuses a file that is not regular, whatever the options; with
// WithNoClobber, any file; without WithReplaceAny, a file that is not a
// vault, such as a key file, a JSON document or a link to
// ~/.ssh/authorized_keys. It reads the target without waiting (see
// openRegular). When the target is a vault sealed with key, it returns
// that vault's timestamp, which the new vault keeps: its key has not
// changed. The caller holds the write lock.
func checkReplaceable(path, target string, key *Key, o *options) (keep time.Time, err error) {
	name := path
	if target != path {
		name = fmt.Sprintf("%s (a link to %s)", path, target)
	}
	if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil
	}
	if info, err := os.Stat(target); err == nil {
		if err := checkRegular(name, info); err != nil {
			return time.Time{}, err
		}
	}
	f, err := openRegular(target)
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	data, err := readLimited(target, f)
	if err != nil && !o.replaceAny {
		return time.Time{}, notVault(name, "it is too large or unreadable")
	}
	defer clear(data)
	data = bytes.TrimSpace(data)
	if kind := keyMaterial(data); kind != "" {
		return time.Time{}, &vaultError{msg: fmt.Sprintf("vault: %s is %s, not a vault: sealing would destroy it, and no option allows that; nothing was written: give the vault another path", name, kind)}
	}
	_, keyIndex, sealedAt, err := verifyToken(data, []*Key{key})
	isVault := len(data) > 0 && (err == nil || keyIndex >= 0 || errors.Is(err, errWrongKey))
	switch {
	case o.noClobber && len(data) == 0:
		return time.Time{}, &vaultError{msg: fmt.Sprintf("vault: %s already exists (empty): nothing was written", name), err: fs.ErrExist}
	case o.noClobber && isVault:
		return time.Time{}, &vaultError{msg: fmt.Sprintf("vault: %s already exists: sealing would replace all of it; nothing was written", name), err: fs.ErrExist}
	case o.noClobber:
		return time.Time{}, &vaultError{msg: fmt.Sprintf("vault: %s already exists and is not a vault (%v): nothing was written", name, err), err: fs.ErrExist}
	case len(data) > 0 && !isVault && !o.replaceAny:
		return time.Time{}, notVault(name, err.Error())
	case keyIndex == 0:
		return sealedAt, nil
	}
	return time.Time{}, nil
}

// keyMaterial names what data (without surrounding whitespace) is when it
// is a file that holds keys or says who holds them, which no write may
// replace, with or without WithReplaceAny: a Fernet key or keyring (a key
// file), age identities (AGE-SECRET-KEY-1..., or a plugin's), or a
// recipients file ({"credvault": "keys/v1", ...}). It returns "" for
// anything else.
func keyMaterial(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if bytes.HasPrefix(line, []byte("AGE-SECRET-KEY-1")) || bytes.HasPrefix(line, []byte("AGE-PLUGIN-")) {
			return kindIdentities
		}
	}
	if len(data) <= MaxKeyringSize && isKeyring(data) {
		return kindKeyFile
	}
	if data[0] == '{' {
		var doc struct {
			Format string `json:"credvault"`
		}
		if json.Unmarshal(data, &doc) == nil && strings.HasPrefix(doc.Format, "keys/") {
			return fmt.Sprintf("a recipients file (%q)", doc.Format)
		}
	}
	return ""
}

// What keyMaterial calls a file that holds secret keys.
const (
	kindIdentities = "a file of age identities (AGE-SECRET-KEY-1...)"
	kindKeyFile    = "a key file (a Fernet key)"
)

// isKeyring reports whether text parses as a keyring, as ParseKeyring
// reads one.
func isKeyring(text []byte) bool {
	_, err := ParseKeyring(string(text))
	return err == nil
}

func notVault(name, why string) error {
	return &vaultError{msg: fmt.Sprintf("vault: %s exists and is not a vault (%s): sealing would destroy it; nothing was written: choose another path, or allow replacing it (WithReplaceAny, -force)", name, why), err: fs.ErrExist}
}

// withWriteLock runs fn with the write lock of the vault at path held,
// passing the file to replace (see writeTarget). It waits at most the
// options' lock timeout for another writer of the same vault.
func withWriteLock(path string, o *options, fn func(target string) error) error {
	return withWriteLockContext(context.Background(), path, o, fn)
}

// withWriteLockContext is withWriteLock whose wait for the lock also ends
// when ctx is done.
//
// The lock covers one vault file, not its directory, so writers of two
// vaults in one directory do not wait for each other. How it is taken
// depends on the system (lockVault): on Unix, an flock(2) of the vault file
// itself, which leaves no lock file behind; on Windows, a LockFileEx lock of
// a hidden sidecar file, removed by the last writer.
func withWriteLockContext(ctx context.Context, path string, o *options, fn func(target string) error) error {
	if err := ctx.Err(); err != nil {
		return &vaultError{msg: fmt.Sprintf("vault: %s: not written (%v): the vault is unchanged", path, err), err: err}
	}
	target, err := writeTarget(path)
	if err != nil {
		return err
	}
	unlock, err := lockVault(ctx, target, o)
	if err != nil {
		return err
	}
	defer unlock()
	return fn(target)
}

// A lockWait waits, with backoff, for a lock held by another writer: until
// the lock timeout of the options passes or its context is done. One
// lockWait spans all the locks one write tries in turn, so the timeout
// bounds the whole wait.
type lockWait struct {
	ctx      context.Context
	o        *options
	deadline time.Time
	pause    time.Duration
}

func newLockWait(ctx context.Context, o *options) *lockWait {
	return &lockWait{ctx: ctx, o: o, deadline: time.Now().Add(o.lockTimeout), pause: time.Millisecond}
}

// until calls try until it takes the lock (returns nil), fails (returns
// another error than errBusy), or the wait ends. name is the vault, for
// messages.
func (w *lockWait) until(name string, try func() error) error {
	for {
		err := try()
		if err == nil {
			return nil
		}
		if !errors.Is(err, errBusy) {
			return writeError(name, "take the write lock", err)
		}
		if err := w.o.fail("lock-wait"); err != nil {
			return writeError(name, "wait for the write lock", err)
		}
		if !time.Now().Before(w.deadline) {
			return errorf(ErrLocked, "%s: another writer has held its write lock for %s: the vault is unchanged; try again when it has finished", name, w.o.lockTimeout)
		}
		timer := time.NewTimer(min(w.pause, time.Until(w.deadline)))
		select {
		case <-w.ctx.Done():
			timer.Stop()
			// Both: the writer was busy (ErrLocked), and the context is
			// why the wait ended.
			return &vaultError{msg: fmt.Sprintf("vault: %s: stopped waiting for the write lock (%v): the vault is unchanged", name, w.ctx.Err()), err: errors.Join(ErrLocked, w.ctx.Err())}
		case <-timer.C:
		}
		w.pause = min(2*w.pause, 50*time.Millisecond)
	}
}

// errBusy is what a try at a lock returns when another writer holds it.
var errBusy = errors.New("the lock is held by another writer")

// tempPrefix returns the name prefix of temporary files for the vault file
// base. The dot hides them; the prefix lets a later writer find the ones a
// killed writer left.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

// replaceFile writes data to a new temporary file beside target (created
// exclusively, mode 0600), syncs it, calls approve, renames the file over
// target and syncs the directory. On any failure before the rename, approve
// refusing included, the temporary file is removed and target is untouched.
// The caller must hold the write lock.
func replaceFile(target string, data []byte, o *options, approve func() error) (err error) {
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	removeStaleTemps(dir, base)

	var suffix [8]byte
	rand.Read(suffix[:])
	tmp := filepath.Join(dir, tempPrefix(base)+hex.EncodeToString(suffix[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return writeError(target, "create a temporary file beside it", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := o.fail("write"); err != nil {
		return writeError(target, "write the temporary file", err)
	}
	if _, err := f.Write(data); err != nil {
		return writeError(target, "write the temporary file", err)
	}
	if err := o.fail("sync"); err != nil {
		return writeError(target, "sync the temporary file", err)
	}
	if err := f.Sync(); err != nil {
		return writeError(target, "sync the temporary file", err)
	}
	if err := f.Close(); err != nil {
		return writeError(target, "close the temporary file", err)
	}
	if err := approve(); err != nil {
		return err
	}
	if err := o.fail("rename"); err != nil {
		return writeError(target, "rename the temporary file over it", err)
	}
	if err := os.Rename(tmp, target); err != nil {
		return writeError(target, "rename the temporary file over it", err)
	}
	if err := syncDir(dir); err != nil {
		// The new vault is in place; only its durability across a power
		// loss is in doubt.
		return &vaultError{msg: fmt.Sprintf("vault: %s was replaced, but its directory could not be synced (%v): the new vault may not survive a power loss", target, err), err: err}
	}
	return nil
}

func (o *options) fail(stage string) error {
	if o.failpoint == nil {
		return nil
	}
	return o.failpoint(stage)
}

func writeError(name, doing string, err error) error {
	err = unwrapPath(err)
	return &vaultError{msg: fmt.Sprintf("vault: %s: cannot %s: %v: the vault is unchanged", name, doing, err), err: err}
}

// removeStaleTemps removes temporary files that a killed writer of the vault
// base left in dir. The caller holds the write lock, so no live writer owns
// one. Failures are ignored: a stale file is only clutter, and it is 0600.
func removeStaleTemps(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := tempPrefix(base)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}

// SaveKey writes key to a new file at path, in Python's form with a final
// newline, mode 0600. It never replaces an existing file: the key is written
// to a temporary file that is then hard-linked to path, which fails if path
// exists, so the file appears whole or not at all.
func SaveKey(path string, key *Key) (err error) {
	if !key.valid() {
		return fmt.Errorf("vault: cannot save a nil key to %s", path)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return &vaultError{msg: fmt.Sprintf("vault: cannot create a file beside %s: %v", path, unwrapPath(err)), err: err}
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	defer f.Close()
	line := []byte(key.Encode() + "\n")
	defer clear(line)
	if _, err := f.Write(line); err != nil {
		return &vaultError{msg: fmt.Sprintf("vault: cannot write %s: %v", path, unwrapPath(err)), err: err}
	}
	if err := f.Sync(); err != nil {
		return &vaultError{msg: fmt.Sprintf("vault: cannot sync %s: %v", path, unwrapPath(err)), err: err}
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &vaultError{msg: fmt.Sprintf("vault: %s already exists: a key file is never overwritten; choose another name, or move the old key away first", path), err: err}
		}
		return &vaultError{msg: fmt.Sprintf("vault: cannot create %s: %v", path, unwrapPath(err)), err: err}
	}
	return syncDir(dir)
}

// unwrapPath returns the cause inside an *fs.PathError, whose own message
// repeats the (often temporary) file name.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	if le := (*os.LinkError)(nil); errors.As(err, &le) {
		return le.Err
	}
	return err
}
