package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/credvault/vault"
	"golang.org/x/term"
)

func setCommand() *command {
	return &command{
		name:    "set",
		args:    "PATH",
		summary: "set one value, read from stdin (never from the command line), and re-seal",
		example: `  printf %s "$NEW_PASSWORD" | credvault set database.password
  echo db.example.com | credvault set database.host      # the newline echo adds is dropped
  credvault set ssh.private_key < id_ed25519             # kept byte for byte, final newline too
  echo 5432 | credvault set -json database.port          # a number, not the string "5432"
  credvault set database.password                        # at a terminal: typed, not echoed`,
		setup: func(flags *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(flags, c)
			asJSON := flags.Bool("json", false, "read a JSON value (number, boolean, null, string, array or object) and store it typed")
			allowEmpty := flags.Bool("allow-empty", false, "store an empty value; by default empty input is refused, as an unset variable gives it (-json \"\" needs no flag)")
			force := flags.Bool("force", false, "replace an object or array that holds values, or a number, boolean or null with a string")
			raw := flags.Bool("raw", false, "keep even the final newline of a single-line value")
			return func(args []string) error {
				if len(args) != 1 {
					return usagef("set takes one credential PATH; the value comes from stdin")
				}
				if *asJSON && *raw {
					return usagef("-raw and -json do not go together: JSON ignores the newline around a value")
				}
				path := args[0]
				keys, opts, err := vf.setup()
				if err != nil {
					return err
				}
				input, typed, err := readValue(c, path)
				if err != nil {
					return err
				}
				defer clear(input)
				var value any
				switch {
				case *asJSON:
					if value, err = vault.ParseJSONValue(input); err != nil {
						return within("stdin", err)
					}
				case typed || *raw:
					value = string(input)
				default:
					value = string(trimLineEnd(input))
				}
				// Input refused is a set that failed: it is refused inside
				// Update, so that the audit records it like any other.
				var refused error
				switch {
				case value == "" && !*allowEmpty && !*asJSON:
					refused = fmt.Errorf("the value for %s on stdin is empty; nothing was stored: was the variable you piped in unset? To store an empty value on purpose, add -allow-empty", path)
				case holdsNUL(value):
					refused = fmt.Errorf("the value for %s holds a NUL byte, which no environment variable can carry (env and exec would refuse the whole vault); nothing was stored: encode it (base64) and decode it where it is used", path)
				}
				var setOpts []vault.SetOption
				if *force {
					setOpts = append(setOpts, vault.ReplaceTree())
				}
				added := false
				sealed, err := vf.update(keys, func(v *vault.Tx) error {
					if refused != nil {
						return refused
					}
					paths := v.Paths() // read without an audit record
					added = isNew(paths, path)
					if !*asJSON && !*force {
						if err := keepScalarType(v, paths, path, value); err != nil {
							return err
						}
					}
					return v.Set(path, value, setOpts...)
				}, opts, vf.maxAgeOption())
				if err != nil {
					return err
				}
				// A new credential is said to be one, so that a typo in the
				// path (database.pasword) shows at once.
				what := ""
				if added {
					what = ", a new credential"
				}
				fmt.Fprintf(c.stderr, "credvault: set %s in %s%s (sealed with key %s)\n", path, vf.vault, what, sealed.Fingerprint())
				return nil
			}
		},
	}
}

// keepScalarType refuses to replace a number, a boolean or a null at path
// with value, a string: "echo 5433 | credvault set database.port" meant the
// number 5433, and the program that reads the port as a number would fail
// on the string. Objects and arrays are Set's to guard (ReplaceTree), and
// a path with nothing at it takes any value. paths are the vault's
// credential paths (Tx.Paths).
func keepScalarType(tx *vault.Tx, paths []string, path string, value any) error {
	if !slices.Contains(paths, path) {
		// Nothing there (Decode would audit a failed read of a path set
		// for the first time), an object or an array, or a path Set
		// refuses with its own message.
		return nil
	}
	var old any
	if err := tx.Decode(path, &old); err != nil {
		return nil
	}
	was := jsonKind(old)
	if now := jsonKind(value); was == now || was == "object" || was == "array" {
		return nil
	}
	return fmt.Errorf("%q holds %s, and the value on stdin would make it %s; nothing was changed: to store the value as JSON (a number, true, false, null), add -json; to store it as a string all the same, add -force", path, withArticle(was), withArticle(jsonKind(value)))
}

// isNew reports whether path holds nothing yet among the vault's paths:
// no value, and no object or array under it.
func isNew(paths []string, path string) bool {
	for _, p := range paths {
		if p == path || strings.HasPrefix(p, path+".") {
			return false
		}
	}
	return true
}

// holdsNUL reports whether a value, or any value inside it, is a string
// with a NUL byte.
func holdsNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.IndexByte(v, 0) >= 0
	case map[string]any:
		for k, e := range v {
			if holdsNUL(k) || holdsNUL(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if holdsNUL(e) {
				return true
			}
		}
	}
	return false
}

// withArticle puts "a" before a JSON kind's name, but for null.
func withArticle(kind string) string {
	if kind == "null" {
		return kind
	}
	return "a " + kind
}

// jsonKind names the JSON type of a value as Decode returns it into an any.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	default:
		return "object"
	}
}

// readValue reads the value for path from stdin: at a terminal, one line
// typed without echo (typed is true); otherwise all of stdin, up to the
// size a vault may be.
func readValue(c *cli, path string) (value []byte, typed bool, err error) {
	if f, ok := c.stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprintf(c.stderr, "credvault: value for %s (not echoed; a multi-line value: redirect a file): ", path)
		value, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return nil, false, fmt.Errorf("cannot read the value from the terminal: %w", err)
		}
		return value, true, nil
	}
	value, err = io.ReadAll(io.LimitReader(c.stdin, vault.MaxVaultSize+1))
	if err != nil {
		return nil, false, fmt.Errorf("cannot read the value from stdin: %w", err)
	}
	if len(value) > vault.MaxVaultSize {
		clear(value)
		return nil, false, fmt.Errorf("the value on stdin is larger than the %d MiB a vault may hold", vault.MaxVaultSize>>20)
	}
	return value, false, nil
}

// trimLineEnd drops the line ending ("\n" or "\r\n") of a single-line
// value, the one echo and a here-string add: "v\n" is stored as "v". A
// value with a line break before its end, such as a PEM block or an SSH
// key, is kept byte for byte, final newline included, as the programs that
// read it back expect; so is a final "\r" with no "\n" after it.
func trimLineEnd(b []byte) []byte {
	line, ok := bytes.CutSuffix(b, []byte("\n"))
	if !ok {
		return b
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	if bytes.IndexByte(line, '\n') >= 0 {
		return b
	}
	return line
}

func unsetCommand() *command {
	return &command{
		name:    "unset",
		args:    "PATH",
		summary: "remove one value (or, with -force, a whole object or array) and re-seal",
		example: `  credvault unset api_keys.stripe
  credvault unset -force api_keys          # the object and every value in it`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(fs, c)
			force := fs.Bool("force", false, "remove an object or array that holds more than one value")
			return func(args []string) error {
				if len(args) != 1 {
					return usagef("unset takes one credential PATH")
				}
				path := args[0]
				keys, opts, err := vf.setup()
				if err != nil {
					return err
				}
				var n int
				sealed, err := vf.update(keys, func(v *vault.Tx) error {
					n = valuesUnder(v.Paths(), path)
					if n > 1 && !*force {
						return fmt.Errorf("%q holds %d values, which unset would remove together; nothing was removed: add -force to remove them all, or unset them one by one (\"credvault status -names\" lists them)", path, n)
					}
					return v.Delete(path)
				}, opts, vf.maxAgeOption())
				if err != nil {
					return err
				}
				what := path
				if n != 1 {
					what = fmt.Sprintf("%s (%d values)", path, n)
				}
				fmt.Fprintf(c.stderr, "credvault: unset %s in %s (sealed with key %s)\n", what, vf.vault, sealed.Fingerprint())
				return nil
			}
		},
	}
}

// valuesUnder counts the values at path or below it, among a vault's
// credential paths (see vault.Vault.Paths): 1 for a single value, the
// number of values inside for an object or an array. A path in the
// syntax's only form (a backslash escapes nothing but a dot or a
// backslash) compares as text.
func valuesUnder(paths []string, path string) int {
	n := 0
	for _, p := range paths {
		if p == path || strings.HasPrefix(p, path+".") {
			n++
		}
	}
	return n
}

// isTerminal reports whether f is a terminal, as x/term's IsTerminal says
// (an ioctl that only a terminal answers), not merely a character device:
// /dev/null is one, and is no terminal.
func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}
