package main

import (
	"flag"
	"fmt"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

func rotateCommand() *command {
	return &command{
		name:    "rotate",
		summary: "re-seal the vault under a new key, verified before it replaces the file",
		example: `  # With a recipients file (credentials.enc.keys): a new key, made and wrapped for every recipient
  credvault rotate
  # With a raw key in MASTER_KEY:
  credvault keygen -o new.key                  # 1. make and save the new key first
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
				keysPath := custody.KeysPath(vf.vault)
				withRecipients := vf.envErr == nil && (exists(keysPath) || exists(vault.PendingSidecar(keysPath)))
				if *newFile != "" && *newEnv != "" || !withRecipients && *newFile == "" && *newEnv == "" {
					return usagef("rotate needs exactly one of -new-key-file FILE and -new-key-env NAME: the new key must be saved before the vault is sealed with it (a vault with a recipients file needs neither: the new key is wrapped for every recipient)")
				}
				// The new key is read, and so known to be saved, before the
				// vault is touched; or made here, when the recipients file
				// is where it is kept.
				var newKey *vault.Key
				switch {
				case *newFile != "":
					ring, err := readKeyFile(*newFile, c.stderr)
					if err != nil {
						return err
					}
					newKey = ring[0]
				case *newEnv != "":
					if c.getenv(*newEnv) == "" {
						return fmt.Errorf("-new-key-env: $%s is not set: set it to the new key, made and saved first (\"credvault keygen -o new.key\"), not to the vault's current keyring", *newEnv)
					}
					ring, err := vault.KeyringFromEnv(c.getenv, *newEnv)
					if err != nil {
						return within("-new-key-env", err)
					}
					newKey = ring[0]
				default:
					newKey = vault.GenerateKey()
				}
				generated := *newFile == "" && *newEnv == ""
				ring, opts, err := vf.setup()
				if err != nil {
					return err
				}
				if withRecipients {
					ctx, cancel := vf.kmsContext()
					defer cancel()
					err = custody.Rotate(ctx, vf.vault, ring, newKey, kmsDrivers(c.getenv), opts)
				} else {
					err = vault.Rotate(vf.vault, ring, newKey, opts)
				}
				if err != nil {
					return keyError{err: err, source: vf.keySource()}
				}
				if withRecipients {
					n := 0
					if f, err := recipientsFile(vf.vault); err == nil && f != nil {
						n = len(f.Recipients)
					}
					fmt.Fprintf(c.stderr, "credvault: rotated %s to key %s, wrapped for its %s in %s: commit both files\n", vf.vault, newKey.Fingerprint(), recipientCount(n), custody.KeysPath(vf.vault))
					fmt.Fprint(c.stderr, pinLine(newKey.LongFingerprint()))
				} else {
					fmt.Fprintf(c.stderr, "credvault: rotated %s to key %s\n", vf.vault, newKey.Fingerprint())
				}
				raw := vf.route != nil && (vf.route.Kind == custody.RouteKeyFile || vf.route.Kind == custody.RouteKeyEnv || vf.route.Kind == custody.RouteKeyCmd)
				switch {
				case generated && raw:
					fmt.Fprintf(c.stderr, "credvault: warning: the new key is written nowhere but in the recipients file: those who read the key from %s can no longer open the vault; give them a recipient (\"credvault recipients add\")\n", vf.keySource())
				case generated:
				case !hasKey(ring, newKey):
					fmt.Fprintf(c.stderr, "credvault: warning: key %s is not in %s: pipelines that read it cannot open the vault until it is (put it first: \"new,old\")\n", newKey.Fingerprint(), vf.keySource())
				case len(ring) > 1:
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
