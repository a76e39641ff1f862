package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// editDirPrefix names the private directories of edit's plaintext copies.
const editDirPrefix = "credvault-edit-"

// editBase returns where edit keeps its plaintext copy: a directory in
// memory where there is one, so that the copy never reaches a disk, even
// after a crash or a kill -9 ($XDG_RUNTIME_DIR, the per-user tmpfs of
// systemd and most desktops, then /dev/shm), else the temporary directory.
func editBase(getenv func(string) string) string {
	for _, dir := range []string{getenv("XDG_RUNTIME_DIR"), "/dev/shm"} {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		if info, err := os.Stat(dir); err == nil && info.IsDir() {
			return dir
		}
	}
	return os.TempDir()
}

// makeEditDir creates a private (0700) directory in base for one edit and
// returns it with a function that removes it. The directory is locked for
// as long as this process lives (see lockDir), so that a later edit can
// tell a copy left by a killed run, which it removes, from a live one. The
// directory is locked before it gets the name that later runs look for,
// so that none of them can take it for a dead run's.
func makeEditDir(base string) (dir string, remove func(), err error) {
	tmp, err := os.MkdirTemp(base, "."+editDirPrefix+"new-")
	if err != nil {
		return "", nil, fmt.Errorf("cannot create a private directory for the decrypted copy: %w", err)
	}
	unlock, err := lockDir(tmp)
	if err != nil {
		os.Remove(tmp)
		return "", nil, err
	}
	var suffix [6]byte
	rand.Read(suffix[:])
	dir = filepath.Join(base, fmt.Sprintf("%s%d-%s", editDirPrefix, os.Getpid(), hex.EncodeToString(suffix[:])))
	if err := os.Rename(tmp, dir); err != nil {
		unlock()
		os.Remove(tmp)
		return "", nil, fmt.Errorf("cannot create a private directory for the decrypted copy: %w", err)
	}
	return dir, func() { os.RemoveAll(dir); unlock() }, nil
}

// removeStaleEditDirs removes the private directories in base that edits
// killed before they could clean up (kill -9, a crash, a power cut on a
// disk-backed directory) left with a plaintext copy in them. A directory is
// stale when its lock can be taken: the lock of a live edit is held by its
// process, and the system releases it when the process dies, whatever
// killed it. Directories of other users are left alone. It says what it
// removed on w.
func removeStaleEditDirs(base string, w io.Writer) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), editDirPrefix) {
			continue
		}
		dir := filepath.Join(base, e.Name())
		info, err := os.Lstat(dir)
		if err != nil || !ownedByMe(info) {
			continue
		}
		unlock, err := lockDir(dir)
		if err != nil {
			continue // a live edit, or not ours to judge
		}
		if err := os.RemoveAll(dir); err == nil {
			fmt.Fprintf(w, "credvault: removed %s, the decrypted copy of an edit that was killed before it could clean up\n", dir)
		}
		unlock()
	}
}
