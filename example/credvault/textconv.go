package main

import "flag"

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
				return printDocument(c, vf, args[0])
			}
		},
	}
}
