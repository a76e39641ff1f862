package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/credvault/vault"
)

func execCommand() *command {
	return &command{
		name:    "exec",
		args:    "CMD [ARGS...]",
		summary: "run CMD with the secrets in its environment only, without the key, its output masked",
		example: `  credvault exec -prefix APP_ ./deploy.sh production
  credvault exec -path database -prefix PG psql -h db -c 'select 1'   # PGHOST, PGPASSWORD, ...`,
		runs: true,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(fs, c)
			ff := addFlattenFlags(fs)
			noMask := fs.Bool("no-mask", false, "pass the command's output through untouched (for full-screen programs); secrets it prints are shown")
			return func(args []string) error {
				if len(args) == 0 {
					return usagef("exec needs a command to run: credvault exec [flags] CMD [ARGS...]")
				}
				v, err := vf.open()
				if err != nil {
					return err
				}
				if *noMask {
					fmt.Fprintf(c.stderr, "credvault exec: -no-mask: the output of %s is not redacted\n", args[0])
				}
				err = v.Run(context.Background(), &vault.Command{
					Args: args, Env: c.environ(), Strip: vf.keyVariables(), Conceal: vf.conceal,
					Prefix: ff.prefix, Flatten: ff.options(),
					Stdin: c.stdin, Stdout: c.stdout, Stderr: c.stderr,
					Unmasked: *noMask, RelaySignals: true,
				})
				var exit *vault.ExitError
				if errors.As(err, &exit) {
					msg := ""
					if !exit.Started {
						msg = strings.TrimPrefix(exit.Error(), "vault: ")
					}
					return exitStatus{code: exit.Code, msg: msg}
				}
				return err
			}
		},
	}
}
