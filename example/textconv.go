package main

import (
	"flag"

	"github.com/credvault/vault"
)

func textconvCommand() *command {
	return &command{
		name:    "textconv",
		args:    "FILE",
		summary: "print a vault as sorted, indented JSON, for git diff",
		example: `  git config diff.credvault.textconv "credvault textconv"
  echo '*.enc diff=credvault' >> .gitattributes
  git diff HEAD~1 -- credentials.enc          # shows which values changed`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(fs, c)
			return func(args []string) error {
				if len(args) != 1 {
					return usagef("textconv takes the FILE git gives it")
				}
				keys, opts, err := vf.setup()
				if err != nil {
					return err
				}
				v, err := vault.Open(args[0], keys, opts...)
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
		},
	}
}
