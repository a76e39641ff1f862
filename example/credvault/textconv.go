package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

func textconvCommand() *command {
	return &command{
		name:    "textconv",
		args:    "FILE",
		summary: "print a vault as sorted, indented JSON, for git diff (diff.credvault.textconv)",
		example: `  credvault git-setup                         # configures git to run it
  git diff HEAD~1 -- credentials.enc          # shows which values changed
  git log -p credentials.enc                  # versions no key opens show as one line`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addKeyFlags(fs, c)
			vf.quiet = true
			return func(args []string) error {
				if len(args) != 1 {
					return usagef("textconv takes the FILE git gives it")
				}
				err := printDocument(c, vf, args[0])
				if err == nil {
					return nil
				}
				// git diff must not break on a version the keys at hand do
				// not open (sealed before a rotation, or no key at all):
				// one line that says when it was sealed and why it is not
				// shown, and success.
				_, werr := fmt.Fprintln(c.stdout, placeholder(args[0], vf.keySource(), err))
				return werr
			}
		},
	}
}

// placeholder describes, in one line and without a value, a vault version
// that cannot be shown: its timestamp, which needs no key, and the reason.
func placeholder(path, keySource string, err error) string {
	var why string
	var noKey *custody.NoKeyError
	switch {
	case errors.Is(err, vault.ErrConflict):
		why = "it holds git conflict markers: run \"credvault git-setup\", then redo the merge"
	case errors.Is(err, vault.ErrMalformed):
		why = "not a sealed vault"
	case errors.Is(err, vault.ErrWrongKey):
		why = "no key of " + keySource + " opens it"
	case errors.Is(err, vault.ErrNotJSON):
		why = "its plaintext is not a JSON object"
	case errors.As(err, &noKey) && len(noKey.Attempts) > 0:
		// The first route's reason: "$MASTER_KEY is not set".
		why, _, _ = strings.Cut(strings.TrimPrefix(noKey.Attempts[0].Error(), "vault: "), ": ")
	default:
		// The first clause of the message: "$MASTER_KEY is not set".
		why, _, _ = strings.Cut(libraryMessage(err), ": ")
	}
	at, err := vault.SealedAt(path)
	if err != nil {
		return "credvault: not shown: " + why
	}
	return fmt.Sprintf("credvault: vault sealed %s, token %s, not shown: %s", at.UTC().Format(time.RFC3339), tokenDigest(path), why)
}

// tokenDigest returns a short SHA-256 of a vault's token, which tells two
// versions apart when their timestamps are equal (a write that keeps the
// key keeps the timestamp). The token is no secret: anyone who reads the
// repository has it.
func tokenDigest(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unreadable"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, vault.MaxVaultSize)); err != nil {
		return "unreadable"
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil)[:6])
}

// onePerFile passes on one audit record per vault textconv shows: the
// reveal, or the failure; a successful open, which the reveal follows, is
// left out.
type onePerFile struct{ vault.Auditor }

func (a onePerFile) Audit(ctx context.Context, e vault.Event) error {
	if e.Op == vault.OpOpen && e.Err == nil {
		return nil
	}
	return a.Auditor.Audit(ctx, e)
}
