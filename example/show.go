package main

import (
	"flag"
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
				v, err := vf.open()
				if err != nil {
					return err
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
