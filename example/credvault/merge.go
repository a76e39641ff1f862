package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/credvault/vault"
)

func mergeCommand() *command {
	return &command{
		name:    "merge",
		args:    "BASE OURS THEIRS [PATHNAME]",
		summary: "merge two versions of a vault by credential, as a git merge driver (merge.credvault.driver)",
		example: `  credvault git-setup          # configures git to run: credvault merge %O %A %B %P
  git merge feature            # vaults changed on both branches merge by credential
  credvault merge base.enc ours.enc theirs.enc    # by hand: the result replaces ours.enc`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addKeyFlags(fs, c)
			return func(args []string) error {
				if len(args) < 3 || len(args) > 4 {
					return usagef("merge takes BASE OURS THEIRS and, from git, the PATHNAME of the vault")
				}
				base, ours, theirs, name := args[0], args[1], args[2], args[1]
				if len(args) == 4 {
					// The vault's own path, for its recipients file.
					name, vf.vault = args[3], args[3]
				}
				keys, opts, err := vf.setup()
				if err != nil {
					return err
				}
				err = vault.Merge(base, ours, theirs, keys, opts)
				if me := (*vault.MergeError)(nil); errors.As(err, &me) {
					for _, conflict := range me.Conflicts {
						fmt.Fprintf(c.stderr, "credvault merge: CONFLICT in %s at %s: ours %s, theirs %s\n", name, conflict.Path, conflict.Ours, conflict.Theirs)
					}
					return exitStatus{code: 1, msg: fmt.Sprintf("%s keeps our version, sealed, and nothing was written in plaintext; "+
						"make it what both sides meant (credvault set, unset or edit -vault %s; their version: git show :3:%s > theirs.enc, then credvault show -vault theirs.enc), then git add %s", name, name, name, name)}
				}
				if err != nil {
					return within("cannot merge "+name, keyError{err: err, source: vf.keySource()})
				}
				fmt.Fprintf(c.stderr, "credvault: merged %s\n", name)
				return nil
			}
		},
	}
}
