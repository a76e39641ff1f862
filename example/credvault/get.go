package main

import (
	"flag"
	"fmt"
)

func getCommand() *command {
	return &command{
		name:    "get",
		args:    "PATH",
		summary: "print one value and a newline",
		example: `  credvault get database.password
  credvault get -vault prod.enc 'servers.db\.example\.com.password'
  credvault get hosts.0`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(fs, c)
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
				_, err = fmt.Fprintln(c.stdout, value)
				return err
			}
		},
	}
}
