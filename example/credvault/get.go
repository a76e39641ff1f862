package main

import (
	"flag"
	"io"
	"strings"
)

func getCommand() *command {
	return &command{
		name:    "get",
		args:    "PATH",
		summary: "print one value, and a newline unless it ends with one",
		example: `  credvault get database.password
  credvault get -vault prod.enc 'servers.db\.example\.com.password'
  credvault get hosts.0
  credvault get -raw ssh.private_key | credvault set -raw ssh.backup_key   # a copy, byte for byte`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(fs, c)
			raw := fs.Bool("raw", false, "print the value byte for byte, with no newline added (for \"get -raw A | set -raw B\")")
			return func(args []string) error {
				if len(args) != 1 {
					return usagef("get takes one credential PATH, such as database.password")
				}
				v, err := vf.open()
				if err != nil {
					return err
				}
				value, err := v.Get(args[0])
				if err != nil {
					return err
				}
				if _, err := io.WriteString(c.stdout, value); err != nil {
					return err
				}
				if !*raw && !strings.HasSuffix(value, "\n") {
					_, err = io.WriteString(c.stdout, "\n")
				}
				return err
			}
		},
	}
}
