package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

func statusCommand() *command {
	return &command{
		name:    "status",
		summary: "which key of the keyring opens the vault, since when (its last seal or rotate: set keeps it), how many secrets (no values)",
		example: `  credvault status
  credvault status -max-age 720h -names     # exit 1 if the key is older than 30 days`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(fs, c)
			names := fs.Bool("names", false, "also list the credential paths (names only)")
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("status takes no arguments")
				}
				ring, opts, err := vf.setup()
				if err != nil {
					return err
				}
				// Open without the age limit, so that an expired vault is
				// described before the command fails.
				v, err := vault.Open(vf.vault, ring, opts)
				if err != nil {
					return keyError{err: err, source: vf.keySource()}
				}
				now := time.Now()
				age := now.Sub(v.SealedAt()).Round(time.Second)
				out := c.stdout
				fmt.Fprintf(out, "vault:    %s\n", vf.vault)
				fmt.Fprintf(out, "key since: %s (%s ago): when the vault's key last changed; set, unset and edit keep it\n", v.SealedAt().UTC().Format(time.RFC3339), age)
				expired := vf.maxAge > 0 && v.SealedAt().Add(vf.maxAge).Before(now)
				switch {
				case vf.maxAge <= 0:
					fmt.Fprintf(out, "max age:  none set (-max-age)\n")
				case expired:
					fmt.Fprintf(out, "max age:  %s: EXPIRED %s ago; rotate to renew it\n", vf.maxAge, age-vf.maxAge)
				default:
					fmt.Fprintf(out, "max age:  %s: %s left\n", vf.maxAge, vf.maxAge-age)
				}
				if vf.route != nil && (vf.route.Kind == custody.RouteAge || vf.route.Kind == custody.RouteKMS) {
					fmt.Fprintf(out, "key:      %s, from %s\n", v.KeyFingerprint(), vf.keySource())
				} else {
					fmt.Fprintf(out, "key:      %s, key %d of %d in %s\n", v.KeyFingerprint(), v.KeyIndex()+1, len(ring), vf.keySource())
				}
				fmt.Fprintf(out, "pin:      %s=%s\n", custody.EnvFingerprint, ring[v.KeyIndex()].LongFingerprint())
				printRecipients(out, vf, v.KeyFingerprint())
				switch {
				case len(ring) == 1:
					fmt.Fprintf(out, "rotation: one key in the keyring\n")
				case v.KeyIndex() == 0:
					fmt.Fprintf(out, "rotation: opened by the first key: once every copy of the vault says so, the other keys can be dropped from %s\n", vf.keySource())
				default:
					fmt.Fprintf(out, "rotation: opened by key %d, not the first (%s): rotate before dropping older keys\n", v.KeyIndex()+1, ring[0].Fingerprint())
				}
				fmt.Fprintf(out, "secrets:  %d\n", v.Len())
				if *names {
					for _, p := range v.Paths() {
						fmt.Fprintf(out, "  %s\n", p)
					}
				}
				if expired {
					return fmt.Errorf("%s: %w: its key dates from %s ago, longer than -max-age %s: rotate it", vf.vault, vault.ErrExpired, age, vf.maxAge)
				}
				return nil
			}
		},
	}
}

// printRecipients prints the recipients line of status: who the recipients
// file lists, and whether it is stale or an interrupted write left a
// pending file, and which of the two records the vault's key.
func printRecipients(out io.Writer, vf *vaultFlags, key string) {
	keysPath := custody.KeysPath(vf.vault)
	pendingPath := vault.PendingSidecar(keysPath)
	f, err := recipientsFile(vf.vault)
	switch {
	case err != nil:
		fmt.Fprintf(out, "recipients: %s\n", libraryMessage(err))
	case f != nil:
		fmt.Fprintf(out, "recipients: %d in %s (%s), key %s", len(f.Recipients), keysPath, recipientNames(f.Recipients), f.Key)
		if f.Key != key {
			fmt.Fprintf(out, ": STALE, not the vault's key")
		}
		fmt.Fprintln(out)
	}
	if !exists(pendingPath) {
		return
	}
	fmt.Fprintf(out, "pending:  %s, left by an interrupted write", pendingPath)
	if p, err := custody.ReadFile(pendingPath); err == nil && p.Key == key {
		fmt.Fprintf(out, ", records the vault's key (%d recipients: %s)", len(p.Recipients), recipientNames(p.Recipients))
	} else {
		fmt.Fprintf(out, ", does not record the vault's key")
	}
	fmt.Fprintf(out, "; %s\n", settleAdvice)
}
