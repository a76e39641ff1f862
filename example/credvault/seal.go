package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/credvault/vault"
)

func sealCommand() *command {
	return &command{
		name:    "seal",
		args:    "[INPUT]",
		summary: "encrypt a JSON object from INPUT (or stdin) into the vault",
		example: `  credvault seal -vault credentials.enc secrets.json && shred -u secrets.json
  echo '{"database": {"password": "..."}}' | credvault seal -vault new.enc
  credvault seal -force secrets.json           # replace an existing vault whole`,
		setup: func(flags *flag.FlagSet, c *cli) func([]string) error {
			vf := addSealFlags(flags, c)
			force := flags.Bool("force", false, "replace an existing vault, or a file that is not a vault, at -vault")
			return func(args []string) error {
				if len(args) > 1 {
					return usagef("seal takes at most one INPUT file")
				}
				keys, opts, err := vf.setup()
				if err != nil {
					return err
				}
				input, data, err := readInput(args, c.stdin)
				if err != nil {
					return err
				}
				defer clear(data)
				secrets, err := vault.ParseJSON(data)
				if err != nil {
					return within(input, err)
				}
				replace := vault.WithNoClobber()
				if *force {
					replace = vault.WithReplaceAny()
				}
				if err := vault.Seal(vf.vault, secrets, keys[0], opts, replace); err != nil {
					if errors.Is(err, fs.ErrExist) {
						return hinted(err, "seal makes a new vault: change the values of an existing one with \"credvault set\", \"unset\" or \"edit\"; to replace the whole file, add -force")
					}
					return err
				}
				fmt.Fprintf(c.stderr, "credvault: sealed %s into %s with key %s\n", input, vf.vault, keys[0].Fingerprint())
				if len(args) == 1 {
					fmt.Fprintf(c.stderr, "credvault: %s still holds the secrets in plaintext: delete it\n", input)
				}
				return nil
			}
		},
	}
}

// readInput reads the file named by args[0], or stdin, up to the size a
// vault may be.
func readInput(args []string, stdin io.Reader) (name string, data []byte, err error) {
	name, r := "stdin", stdin
	if len(args) == 1 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return "", nil, err
		}
		defer f.Close()
		name, r = args[0], f
	}
	data, err = io.ReadAll(io.LimitReader(r, vault.MaxVaultSize+1))
	if err != nil {
		return "", nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if len(data) > vault.MaxVaultSize {
		clear(data)
		return "", nil, fmt.Errorf("%s is larger than the %d MiB a vault may hold", name, vault.MaxVaultSize>>20)
	}
	return name, data, nil
}
