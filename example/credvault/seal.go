package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

func sealCommand() *command {
	return &command{
		name:    "seal",
		args:    "[INPUT]",
		summary: "encrypt a JSON object from INPUT (or stdin) into the vault",
		example: `  credvault seal -vault credentials.enc secrets.json && shred -u secrets.json
  echo '{"database": {"password": "..."}}' | credvault seal -vault new.enc
  credvault seal -force secrets.json           # replace an existing vault whole`,
		setup: func(flags *flag.FlagSet, c *cli) func([]string) error {
			vf := addSealFlags(flags, c)
			force := flags.Bool("force", false, "replace an existing vault, or a file that is not a vault, at -vault")
			var recipients stringList
			flags.Var(&recipients, "recipient", "seal under a new key wrapped for `ID` (an age1... recipient or a KMS key URL; LABEL=ID names it), repeatable: writes VAULT.keys and no raw key anywhere")
			return func(args []string) error {
				if len(args) > 1 {
					return usagef("seal takes at most one INPUT file")
				}
				if len(recipients) > 0 {
					return sealForRecipients(c, vf, recipients, args, *force)
				}
				keys, opts, err := vf.setup()
				if err != nil {
					return err
				}
				input, data, err := readInput(args, c.stdin)
				if err != nil {
					return err
				}
				defer clear(data)
				secrets, err := vault.ParseJSON(data)
				if err != nil {
					return within(input, err)
				}
				if err := checkRecipientsKey(vf.vault, keys[0]); err != nil {
					return err
				}
				replace := vault.WithNoClobber()
				if *force {
					replace = vault.WithReplaceAny()
				}
				if err := vault.Seal(vf.vault, secrets, keys[0], opts, replace); err != nil {
					if errors.Is(err, fs.ErrExist) {
						return hinted(err, "seal makes a new vault: change the values of an existing one with \"credvault set\", \"unset\" or \"edit\"; to replace the whole file, add -force")
					}
					return err
				}
				fmt.Fprintf(c.stderr, "credvault: sealed %s into %s with key %s\n", input, vf.vault, keys[0].Fingerprint())
				if len(args) == 1 {
					fmt.Fprintf(c.stderr, "credvault: %s still holds the secrets in plaintext: delete it\n", input)
				}
				return nil
			}
		},
	}
}

// sealForRecipients seals the input under a new key, wrapped for the
// recipients in the vault's recipients file, written with it. The key is
// written nowhere else.
func sealForRecipients(c *cli, vf *vaultFlags, ids, args []string, force bool) error {
	if vf.envErr != nil {
		return vf.envErr
	}
	if vf.keyFile != "" || vf.keyCmd != "" || len(vf.identities) > 0 {
		return usagef("-recipient seals under a new key: leave out -key-file, -key-cmd and -identity")
	}
	rs, err := recipientArgs(ids, c.getenv)
	if err != nil {
		return err
	}
	keysPath := custody.KeysPath(vf.vault)
	if exists(keysPath) && !force {
		if _, err := custody.ReadFile(keysPath); err != nil {
			return notRecipientsFile(keysPath, forceKeysFile)
		}
		if !exists(vf.vault) {
			return leftoverKeys(vf.vault, "; or add -force to replace it")
		}
		return hinted(fmt.Errorf("%s already exists", keysPath), "seal -recipient makes a new vault and recipients file: change who can open an existing one with \"credvault recipients add\" or \"remove\"; to replace both files, add -force")
	}
	vf.newKey = "new key for recipients " + recipientNames(rs)
	opts, err := vf.options()
	if err != nil {
		return err
	}
	input, data, err := readInput(args, c.stdin)
	if err != nil {
		return err
	}
	defer clear(data)
	secrets, err := vault.ParseJSON(data)
	if err != nil {
		return within(input, err)
	}
	ctx, cancel := vf.kmsContext()
	defer cancel()
	seal := custody.Seal
	var replace []vault.SealOption
	if force {
		seal, replace = custody.Replace, []vault.SealOption{vault.WithReplaceAny()}
	}
	pin, err := seal(ctx, vf.vault, secrets, rs, kmsDrivers(c.getenv), append(replace, opts)...)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return hinted(err, "seal makes a new vault: to replace the whole file and its recipients, add -force")
		}
		return err
	}
	fmt.Fprintf(c.stderr, "credvault: sealed %s into %s under a new key %s, wrapped for %s in %s; no raw key was written anywhere: commit both files\n", input, vf.vault, pin[:12], recipientNames(rs), keysPath)
	fmt.Fprint(c.stderr, pinLine(pin))
	if len(args) == 1 && args[0] != "-" {
		fmt.Fprintf(c.stderr, "credvault: %s still holds the secrets in plaintext: delete it\n", input)
	}
	return nil
}

// checkRecipientsKey refuses to seal a vault that has a recipients file
// under a key the file does not wrap: its recipients could no longer open
// it, and the file would say otherwise in review.
func checkRecipientsKey(vaultPath string, key *vault.Key) error {
	f, err := recipientsFile(vaultPath)
	if err != nil && !errors.Is(err, fs.ErrPermission) && exists(custody.KeysPath(vaultPath)) {
		return notRecipientsFile(custody.KeysPath(vaultPath), "")
	}
	if f != nil && f.Key != key.Fingerprint() && !exists(vaultPath) {
		return leftoverKeys(vaultPath, "")
	}
	if err != nil || f == nil || f.Key == key.Fingerprint() {
		return err
	}
	return hinted(fmt.Errorf("%s wraps key %s for its recipients, and this seal would use key %s: they could no longer open the vault", custody.KeysPath(vaultPath), f.Key, key.Fingerprint()),
		"open with a recipient's identity (-identity FILE) so that the same key seals, or change the key for everyone with \"credvault rotate\", or start over with \"credvault seal -recipient\"")
}

// readInput reads the file named by args[0], or stdin, up to the size a
// vault may be.
func readInput(args []string, stdin io.Reader) (name string, data []byte, err error) {
	name, r := "stdin", stdin
	if len(args) == 1 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return "", nil, err
		}
		defer f.Close()
		name, r = args[0], f
	}
	data, err = io.ReadAll(io.LimitReader(r, vault.MaxVaultSize+1))
	if err != nil {
		return "", nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if len(data) > vault.MaxVaultSize {
		clear(data)
		return "", nil, fmt.Errorf("%s is larger than the %d MiB a vault may hold", name, vault.MaxVaultSize>>20)
	}
	return name, data, nil
}

// leftoverKeys is the error for a recipients file beside no vault: left by
// a vault that was moved or deleted, it would name recipients who cannot
// open the new one. A file there that is not a recipients file is not
// called one.
func leftoverKeys(vaultPath, or string) error {
	keysPath := custody.KeysPath(vaultPath)
	if _, err := custody.ReadFile(keysPath); err != nil {
		return notRecipientsFile(keysPath, forceKeysFile)
	}
	return hinted(fmt.Errorf("%s does not exist, but %s does: it was left by a vault that was moved or deleted", vaultPath, keysPath),
		fmt.Sprintf("remove %s (git rm it if it is committed), or restore the vault, then seal again%s", keysPath, or))
}

// notRecipientsFile is the error for a file at the recipients file's name
// that is not one: it may be a key or an identity, the only copy.
func notRecipientsFile(keysPath, or string) error {
	return hinted(fmt.Errorf("%s exists and is not a recipients file: nothing was written", keysPath),
		"it is where the vault's recipients file goes: move it away (it may hold a key or an identity you need), or give the vault another path with -vault"+or)
}

// forceKeysFile says what -force does to a file at the recipients file's
// name that is not one.
const forceKeysFile = "; -force replaces it, unless it holds keys, which nothing replaces"
