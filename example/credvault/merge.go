package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

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
					// The vault's own path, for its recipients file, and
					// for messages and audit records in place of git's
					// temporary copies of its versions.
					name, vf.vault = args[3], args[3]
					vf.tempNames = strings.NewReplacer(base, name, ours, name, theirs, name)
				}
				keys, opts, err := vf.setup()
				if err != nil {
					return asDriver(err, name, len(args) == 4)
				}
				err = vault.Merge(base, ours, theirs, keys, opts)
				if me := (*vault.MergeError)(nil); errors.As(err, &me) {
					for _, conflict := range me.Conflicts {
						fmt.Fprintf(c.stderr, "credvault merge: CONFLICT in %s at %s: ours %s, theirs %s\n", name, conflict.Path, conflict.Ours, conflict.Theirs)
					}
					what, it := "the credential above", "it"
					if len(me.Conflicts) > 1 {
						what, it = fmt.Sprintf("the %d credentials above", len(me.Conflicts)), "each"
					}
					return exitStatus{code: 1, msg: fmt.Sprintf("%s holds, sealed, every change of both sides that did not conflict and our value of %s; nothing was written in plaintext. "+
						"Set %s to what both sides meant (credvault set or unset; their version: git show :3:%s > theirs.enc, then credvault show -vault theirs.enc), then git add %s", name, what, it, name, name)}
				}
				if err != nil {
					err = keyError{err: err, source: vf.keySource()}
					if vf.tempNames != nil {
						err = gitNamed(err, vf.tempNames)
					}
					if !strings.Contains(err.Error(), name) {
						err = within("cannot merge "+name, err)
					}
					return asDriver(err, name, len(args) == 4)
				}
				fmt.Fprintf(c.stderr, "credvault: merged %s\n", name)
				return nil
			}
		},
	}
}

// asDriver adds to the error of a merge that could not be made (no key, a
// damaged version) what it leaves behind when git ran the driver: git
// keeps our version, without the other side's changes, and marks it
// conflicted, so that "git add" of it as it is would drop them silently.
func asDriver(err error, name string, fromGit bool) error {
	if !fromGit {
		return err
	}
	return hinted(err, fmt.Sprintf("git keeps our version of %s, without the other side's changes, and marks it conflicted: do not git add it as it is. Fix the cause above, then run \"git checkout -m %s\" to merge it again, or \"git merge --abort\"", name, name))
}

// gitNamed returns err with the names of git's temporary copies of a
// vault's versions (.merge_file_okl3Wp) replaced by the vault's own path.
func gitNamed(err error, names *strings.Replacer) error {
	return contextError{msg: names.Replace(err.Error()), err: err}
}

// gitNamedAuditor names the vault, not git's temporary copies of its
// versions, in the audit records of a merge.
type gitNamedAuditor struct {
	vault.Auditor
	names *strings.Replacer
}

func (a gitNamedAuditor) Audit(ctx context.Context, e vault.Event) error {
	e.Vault = a.names.Replace(e.Vault)
	if e.Err != nil {
		e.Err = gitNamed(e.Err, a.names)
	}
	return a.Auditor.Audit(ctx, e)
}
