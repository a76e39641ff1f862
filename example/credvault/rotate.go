package main

import (
	"flag"
	"fmt"

	"github.com/credvault/vault"
)

func rotateCommand() *command {
	return &command{
		name:    "rotate",
		summary: "re-seal the vault under a new key, verified before it replaces the file",
		example: `  credvault keygen -o new.key                  # 1. make and save the new key first
  # put it in front of the CI secret: MASTER_KEY="<new>,<old>"
  credvault rotate -new-key-file new.key        # 2. rotate (opens with $MASTER_KEY)
  credvault status                              # 3. "opened by the first key": drop the old key`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addSealFlags(fs, c)
			newFile := fs.String("new-key-file", "", "seal under the first key in `file`")
			newEnv := fs.String("new-key-env", "", "seal under the first key in the environment variable `name`")
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("rotate takes no arguments")
				}
				if (*newFile == "") == (*newEnv == "") {
					return usagef("rotate needs exactly one of -new-key-file FILE and -new-key-env NAME: the new key must be saved before the vault is sealed with it")
				}
				// The new key is read, and so known to be saved, before the
				// vault is touched.
				var newRing []*vault.Key
				var err error
				if *newFile != "" {
					newRing, err = readKeyFile(*newFile, c.stderr)
				} else {
					newRing, err = (&vaultFlags{c: c, keyEnv: *newEnv}).keyring()
				}
				if err != nil {
					return err
				}
				newKey := newRing[0]
				ring, opts, err := vf.setup()
				if err != nil {
					return err
				}
				if err := vault.Rotate(vf.vault, ring, newKey, opts); err != nil {
					return keyError{err: err, source: vf.keySource()}
				}
				fmt.Fprintf(c.stderr, "credvault: rotated %s to key %s\n", vf.vault, newKey.Fingerprint())
				if !hasKey(ring, newKey) {
					fmt.Fprintf(c.stderr, "credvault: warning: key %s is not in %s: pipelines that read it cannot open the vault until it is (put it first: \"new,old\")\n", newKey.Fingerprint(), vf.keySource())
				} else if len(ring) > 1 {
					fmt.Fprintf(c.stderr, "credvault: once every copy of the vault is rotated (\"credvault status\" says \"opened by the first key\"), drop the old key from %s\n", vf.keySource())
				}
				return nil
			}
		},
	}
}

func hasKey(ring []*vault.Key, k *vault.Key) bool {
	for _, r := range ring {
		if r.Fingerprint() == k.Fingerprint() {
			return true
		}
	}
	return false
}
