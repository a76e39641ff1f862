package main

import (
	"flag"

	"github.com/credvault/vault"
)

func showCommand() *command {
	return &command{
		name:    "show",
		summary: "print the decrypted JSON, keys sorted",
		example: `  credvault show -vault credentials.enc | jq .database`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(fs, c)
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("show takes no arguments")
				}
				if err := printDocument(c, vf, vf.vault); err != nil {
					return err
				}
				warnCILog(c, "show", "every value")
				return nil
			}
		},
	}
}

// printDocument prints the vault at path as sorted, indented JSON: show's
// work, and textconv's.
func printDocument(c *cli, vf *vaultFlags, path string) error {
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
	_, err = c.stdout.Write(doc)
	return err
}
