package main

import (
	"bytes"
	"compress/zlib"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"
)

// noplain DIR VALUE... asserts that no file under DIR holds any of the
// values: not as it is, not zlib-compressed as git keeps loose objects, and,
// when DIR is a git work tree, in no object git holds, packed ones
// included. Scripts use it to check that a merge left no plaintext in the
// work tree, in .git or in a temporary directory.
func cmdNoPlain(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: noplain DIR VALUE...")
	}
	dir := ts.MkAbs(args[0])
	values := args[1:]
	check := func(where string, data []byte) {
		for _, v := range values {
			if bytes.Contains(data, []byte(v)) {
				ts.Fatalf("%s holds %q in plaintext", where, v)
			}
		}
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		check(path, data)
		if r, err := zlib.NewReader(bytes.NewReader(data)); err == nil {
			inflated, _ := io.ReadAll(r)
			check(path+" (inflated)", inflated)
		}
		return nil
	})
	ts.Check(err)
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		cmd := exec.Command("git", "cat-file", "--batch-all-objects", "--batch")
		cmd.Dir = dir
		out, err := cmd.Output()
		ts.Check(err)
		check("an object in "+filepath.Join(dir, ".git"), out)
	}
}
