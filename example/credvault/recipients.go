package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"text/tabwriter"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

func recipientsCommand() *command {
	return &command{
		name:    "recipients",
		args:    "[add [-label L] [LABEL=]ID | remove ID|LABEL]",
		summary: "list who can open the vault (its recipients file), add one, or remove one",
		example: `  credvault recipients
  credvault recipients add carol=age1...                             # carol's age-keygen public key
  credvault recipients add -label ci 'awskms:///arn:aws:kms:eu-west-1:111122223333:key/...'
  credvault recipients remove carol && credvault rotate             # offboarding: remove, then rotate`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addSealFlags(fs, c)
			label := fs.String("label", "", "with add: the recipient's `name`, shown by status and audit records")
			return func(args []string) error {
				switch {
				case len(args) == 0:
					if *label != "" {
						return usagef("-label is for \"recipients add\"")
					}
					return listRecipients(c, vf)
				case args[0] == "add" && len(args) == 2:
					return addRecipient(c, vf, args[1], *label)
				case args[0] == "remove" && len(args) == 2:
					if *label != "" {
						return usagef("-label is for \"recipients add\": remove takes the ID or the label as its argument")
					}
					return removeRecipient(c, vf, args[1])
				case args[0] == "add" || args[0] == "remove":
					return usagef("recipients %s takes one ID (or label, for remove)", args[0])
				}
				return usagef("recipients takes no argument (list), or add ID, or remove ID|LABEL")
			}
		},
	}
}

// listRecipients prints the recipients file: no key is needed, and no
// secret is shown.
func listRecipients(c *cli, vf *vaultFlags) error {
	if vf.envErr != nil {
		return vf.envErr
	}
	keysPath := custody.KeysPath(vf.vault)
	pending := vault.PendingSidecar(keysPath)
	shown := keysPath
	f, err := custody.ReadFile(keysPath)
	if errors.Is(err, fs.ErrNotExist) && exists(pending) {
		// A write was interrupted before the file took its name (a seal
		// -recipient killed between its renames): the pending file is all
		// there is.
		shown = pending
		f, err = custody.ReadFile(pending)
	}
	if err != nil {
		return hinted(err, "\"credvault seal -recipient ID ...\" makes a vault whose key is wrapped for recipients")
	}
	fmt.Fprintf(c.stdout, "%s: key %s, %s\n", shown, f.Key, recipientCount(len(f.Recipients)))
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tLABEL\tID")
	for _, r := range f.Recipients {
		label := r.Label
		if label == "" {
			label = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Type, label, r.ID)
	}
	tw.Flush()
	if exists(pending) {
		fmt.Fprintf(c.stderr, "credvault: warning: %s was left by an interrupted write; %s\n", pending, settleAdvice)
	}
	return nil
}

// settleAdvice says how to finish an interrupted write of a recipients
// file.
const settleAdvice = "\"credvault rotate\" (or \"recipients add\" or \"remove\") with a route to the key settles it"

// addRecipient adds the recipient arg names, "ID" or "LABEL=ID" as seal
// -recipient takes it, labelled by -label or by the LABEL= prefix.
func addRecipient(c *cli, vf *vaultFlags, arg, label string) error {
	prefix, id := splitLabel(arg)
	if prefix != "" && label != "" {
		return usagef("recipients add: the recipient is labelled twice, by -label and by LABEL= before its ID: give one")
	}
	if prefix != "" {
		label = prefix
	}
	rc, err := custody.NewRecipient(id, label, kmsDrivers(c.getenv))
	if err != nil {
		return usagef("%s", libraryMessage(err))
	}
	key, opts, err := vf.openingKey()
	if err != nil {
		return err
	}
	ctx, cancel := vf.kmsContext()
	defer cancel()
	if err := custody.AddRecipient(ctx, vf.vault, key, rc, kmsDrivers(c.getenv), opts); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "credvault: added %s to %s: commit it; %s can now open the vault, and any earlier copy sealed with key %s\n", rc, custody.KeysPath(vf.vault), rc.Name(), key.Fingerprint())
	return nil
}

func removeRecipient(c *cli, vf *vaultFlags, which string) error {
	key, opts, err := vf.openingKey()
	if err != nil {
		return err
	}
	rc, err := custody.RemoveRecipient(context.Background(), vf.vault, key, which, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "credvault: removed %s from %s: commit it\n", rc, custody.KeysPath(vf.vault))
	fmt.Fprintf(c.stderr, "credvault: removal revokes nothing %s has seen: the key (%s) and any copy of the vault may have been kept; run \"credvault rotate\" now, so that what is sealed next is under a key %s never had, and change the secrets %s could read if that matters\n", rc.Name(), key.Fingerprint(), rc.Name(), rc.Name())
	return nil
}

// recipientCount says how many recipients: "1 recipient", "3 recipients".
func recipientCount(n int) string {
	if n == 1 {
		return "1 recipient"
	}
	return fmt.Sprintf("%d recipients", n)
}
