package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/credvault/vault"
)

func setCommand() *command {
	return &command{
		name:    "set",
		args:    "PATH",
		summary: "set one value, read from stdin (never from the command line), and re-seal",
		example: `  printf %s "$NEW_PASSWORD" | credvault set database.password
  credvault set ssh.private_key < id_ed25519
  credvault set -raw tls.chain < chain.pem     # keep the final newline`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(fs, c)
			raw := fs.Bool("raw", false, "keep a final newline; by default one is dropped, as echo adds it")
			return func(args []string) error {
				if len(args) != 1 {
					return usagef("set takes one credential PATH; the value comes from stdin")
				}
				path := args[0]
				keys, opts, err := vf.setup()
				if err != nil {
					return err
				}
				if f, ok := c.stdin.(*os.File); ok && isTerminal(f) {
					fmt.Fprintf(c.stderr, "credvault: type the value for %s, then Ctrl-D:\n", path)
				}
				value, err := io.ReadAll(io.LimitReader(c.stdin, vault.MaxVaultSize+1))
				if err != nil {
					return fmt.Errorf("cannot read the value from stdin: %w", err)
				}
				defer clear(value)
				if len(value) > vault.MaxVaultSize {
					return fmt.Errorf("the value on stdin is larger than the %d MiB a vault may hold", vault.MaxVaultSize>>20)
				}
				if !*raw {
					value = bytes.TrimSuffix(value, []byte("\n"))
					value = bytes.TrimSuffix(value, []byte("\r"))
				}
				err = vault.Update(vf.vault, keys, func(v *vault.Vault) error {
					return v.Set(path, string(value))
				}, opts, vf.maxAgeOption())
				if err != nil {
					return keyError{err: err, source: vf.keySource()}
				}
				fmt.Fprintf(c.stderr, "credvault: set %s in %s (sealed with key %s)\n", path, vf.vault, keys[0].Fingerprint())
				return nil
			}
		},
	}
}

func unsetCommand() *command {
	return &command{
		name:    "unset",
		args:    "PATH",
		summary: "remove one value (or a whole object) and re-seal",
		example: `  credvault unset api_keys.stripe`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(fs, c)
			return func(args []string) error {
				if len(args) != 1 {
					return usagef("unset takes one credential PATH")
				}
				keys, opts, err := vf.setup()
				if err != nil {
					return err
				}
				err = vault.Update(vf.vault, keys, func(v *vault.Vault) error {
					return v.Delete(args[0])
				}, opts, vf.maxAgeOption())
				if err != nil {
					return keyError{err: err, source: vf.keySource()}
				}
				fmt.Fprintf(c.stderr, "credvault: unset %s in %s (sealed with key %s)\n", args[0], vf.vault, keys[0].Fingerprint())
				return nil
			}
		},
	}
}

// isTerminal reports whether f is a character device, such as a terminal.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
