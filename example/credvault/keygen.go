package main

import (
	"flag"
	"fmt"

	"github.com/credvault/vault"
)

func keygenCommand() *command {
	return &command{
		name:    "keygen",
		summary: "print a new key, or write it to a new file",
		example: `  credvault keygen -o master.key       # a new 0600 file, never overwritten
  export MASTER_KEY="$(cat master.key)"`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			out := fs.String("o", "", "write the key to `file` (created with mode 0600; an existing file is never overwritten; - is stdout)")
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("keygen takes no arguments")
				}
				key := vault.GenerateKey()
				if *out == "" || *out == "-" {
					if _, err := fmt.Fprintln(c.stdout, key.Encode()); err != nil {
						return err
					}
					warnCILogTo(c, "keygen", "the new key", "write it to a file with -o FILE, or rotate to a key made where no log records it")
					return nil
				}
				if err := vault.SaveKey(*out, key); err != nil {
					return err
				}
				fmt.Fprintf(c.stderr, "credvault: wrote a new key to %s (fingerprint %s)\n", *out, key.Fingerprint())
				return nil
			}
		},
	}
}
