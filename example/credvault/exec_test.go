package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/credvault/vault"
)

// TestExecDoesNotDelayOutput: an interactive child's ordinary output reaches
// credvault's stdout while the child still runs, not when it exits.
func TestExecDoesNotDelayOutput(t *testing.T) {
	key := vault.GenerateKey()
	path := filepath.Join(t.TempDir(), "v.enc")
	if err := vault.Seal(path, map[string]any{"password": "ready-not-a-prefix"}, key); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	c := &cli{
		stdin: bytes.NewReader(nil), stdout: pw, stderr: io.Discard,
		getenv:  func(name string) string { return map[string]string{"MASTER_KEY": key.Encode()}[name] },
		environ: func() []string { return []string{"PATH=" + os.Getenv("PATH")} },
	}
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"exec", "-vault", path, "--", "sh", "-c", "printf 'prompt> '; sleep 2"}, c)
		pw.Close()
	}()
	got := make(chan string, 1)
	go func() {
		b := make([]byte, len("prompt> "))
		io.ReadFull(bufio.NewReader(pr), b)
		got <- string(b)
	}()
	select {
	case s := <-got:
		if s != "prompt> " {
			t.Errorf("got %q", s)
		}
	case <-time.After(1500 * time.Millisecond):
		t.Fatal("the child's output was held back while it ran")
	}
	go io.Copy(io.Discard, pr)
	if code := <-done; code != 0 {
		t.Errorf("exit status %d", code)
	}
}
