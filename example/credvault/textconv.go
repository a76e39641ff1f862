package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

func textconvCommand() *command {
	return &command{
		name:    "textconv",
		args:    "FILE",
		summary: "print a vault as sorted, indented JSON, for git diff (diff.credvault.textconv); in CI, with every value masked",
		example: `  credvault git-setup                         # configures git to run it
  git diff HEAD~1 -- credentials.enc          # shows which values changed
  git log -p credentials.enc                  # versions no key opens show as one line
  CI=true git diff HEAD~1 -- credentials.enc  # in CI: names, and "*** <digest>" for each value`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addKeyFlags(fs, c)
			vf.quiet = true
			return func(args []string) error {
				if len(args) != 1 {
					return usagef("textconv takes the FILE git gives it")
				}
				// Another tool's *.enc file, or one with git's conflict
				// markers, is told apart before any key is looked for, by
				// a line that changes with its content, so that git diff
				// shows that it changed.
				if _, err := vault.SealedAt(args[0]); errors.Is(err, vault.ErrMalformed) {
					_, werr := fmt.Fprintln(c.stdout, notVault(args[0], err))
					return werr
				}
				show := printDocument
				if p := vault.DetectPipeline(c.getenv); p.Platform != "local" {
					show = func(c *cli, vf *vaultFlags, path string) error {
						return printMasked(c, vf, path, p.Platform)
					}
				}
				err := show(c, vf, args[0])
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

// notVault describes, in one line, a file that is not a vault, without
// its text (it may be plaintext): its size and a digest of its bytes, and
// how to see it.
func notVault(path string, err error) string {
	what := "not a credvault vault"
	if errors.Is(err, vault.ErrConflict) {
		what = "not a vault but git's conflict markers around two versions (run \"credvault git-setup\", then redo the merge)"
	}
	size := "unreadable"
	if info, err := os.Stat(path); err == nil {
		size = fmt.Sprintf("%d bytes", info.Size())
	}
	return fmt.Sprintf("credvault: %s: %s, %s; git diff --no-textconv shows its text", what, size, tokenDigest(path))
}

// placeholder describes, in one line and without a value, a vault version
// that cannot be shown: its timestamp, which needs no key, and the reason.
func placeholder(path, keySource string, err error) string {
	var why string
	var noKey *custody.NoKeyError
	switch {
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

// tokenDigest returns a short SHA-256 of a file, a vault's token, which
// tells two versions apart when their timestamps are equal (a write that
// keeps the key keeps the timestamp). The token is no secret: anyone who
// reads the repository has it, as it has a file that is not a vault, whose
// versions the digest tells apart too.
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

// maskedDomain separates the key of printMasked's digests from other uses
// of the vault key.
const maskedDomain = "credvault textconv masked value v1"

// printMasked prints the vault at path as printDocument does, but with
// every value (every leaf: string, number, boolean or null) replaced by
// "*** " and a digest, after a first line that says so: in CI, where git
// diff's output is the job's log, which anyone who can read the job can
// read. The names and the structure stay, and the digest changes with the
// value, so that git diff shows which values changed and nothing of them.
// It is 12 hex digits of HMAC-SHA256 of the value's path and JSON text,
// keyed by a key derived from the keyring's first key, which opens both
// versions a diff compares: equal for equal values at one path, unrelated
// across paths, and, without the key, no help in guessing a value.
func printMasked(c *cli, vf *vaultFlags, path, platform string) error {
	keys, opts, err := vf.setup()
	if err != nil {
		return err
	}
	v, err := vault.Open(path, keys, opts, vf.maxAgeOption())
	if err != nil {
		return keyError{err: err, source: vf.keySource()}
	}
	doc, err := v.RevealJSON()
	if err != nil {
		return err
	}
	defer clear(doc)
	var tree any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("%s: cannot read the document to mask it", path)
	}
	derive := hmac.New(sha256.New, []byte(keys[0].Encode()))
	derive.Write([]byte(maskedDomain))
	key := derive.Sum(nil)
	defer clear(key)
	var out bytes.Buffer
	fmt.Fprintf(&out, "credvault: in CI (%s), every value is masked, as \"*** <digest>\", which changes with the value: run git diff outside CI to see the values\n", platform)
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(maskTree(key, nil, tree)); err != nil {
		return err
	}
	_, err = c.stdout.Write(out.Bytes())
	return err
}

// maskTree returns node, at path in the document, with each leaf replaced
// by its mask (see printMasked).
func maskTree(key []byte, path []string, node any) any {
	switch n := node.(type) {
	case map[string]any:
		masked := make(map[string]any, len(n))
		for name, child := range n {
			masked[name] = maskTree(key, append(path[:len(path):len(path)], name), child)
		}
		return masked
	case []any:
		masked := make([]any, len(n))
		for i, child := range n {
			masked[i] = maskTree(key, append(path[:len(path):len(path)], strconv.Itoa(i)), child)
		}
		return masked
	}
	// The path as a JSON array, so that no two paths hash alike, and the
	// value as JSON, so that "5432" and 5432 differ.
	where, _ := json.Marshal(path)
	value, _ := json.Marshal(node)
	mac := hmac.New(sha256.New, key)
	mac.Write(where)
	mac.Write([]byte{0})
	mac.Write(value)
	clear(value)
	return fmt.Sprintf("*** %x", mac.Sum(nil)[:6])
}
