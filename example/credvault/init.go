package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

func initCommand() *command {
	return &command{
		name:    "init",
		summary: "create an empty vault and its key, keep keys and plaintext out of git, and run git-setup",
		example: `  credvault init                 # credentials.enc and credentials.key
  credvault init -env prod       # credentials.prod.enc and credentials.prod.key, for $MASTER_KEY_PROD
  gh secret set MASTER_KEY_PROD < credentials.prod.key
  credvault init -env prod -recipient age1... -recipient awskms:///arn:aws:kms:...   # no key file at all`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := &vaultFlags{c: c}
			vf.addEnvFlags(fs, true)
			fs.StringVar(&vf.audit, "audit", "", "append complete audit records as JSON lines to `file` (created 0600; default $CREDVAULT_AUDIT)")
			keyFile := fs.String("key-file", "", "write the new key to `file` (created 0600, never overwritten); default: the vault's name with .key, such as credentials.key")
			var recipients stringList
			fs.Var(&recipients, "recipient", "wrap the new key for `ID`, an age recipient (age1...) or a KMS key URL, in the recipients file beside the vault, and write no key file (repeatable)")
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("init takes no arguments")
				}
				if vf.envErr != nil {
					return vf.envErr
				}
				if len(recipients) > 0 {
					if *keyFile != "" {
						return usagef("-recipient writes no key file: leave out -key-file")
					}
					return initForRecipients(c, vf, recipients)
				}
				keyPath := *keyFile
				if keyPath == "" {
					keyPath = strings.TrimSuffix(vf.vault, ".enc") + ".key"
				}
				return initVault(c, vf, keyPath)
			}
		},
	}
}

// initVault creates an empty vault and a new key beside it, both new files
// (it refuses to replace anything), makes git ignore keys and plaintext,
// and sets up git's diff and merge drivers when in a git repository. It
// refuses, before it writes anything, a .gitignore or .gitattributes that
// git would not read (checkGitFiles), and, before it writes the key, a key
// file that git would not ignore (checkIgnored).
func initVault(c *cli, vf *vaultFlags, keyPath string) error {
	for _, path := range []string{vf.vault, keyPath, custody.KeysPath(vf.vault)} {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s already exists: init creates a new vault and a new key, and replaces nothing; nothing was written (pass -vault or -env for another vault, -key-file for another key file)", path)
		}
	}
	if other, name := vaultOfKeyVar(vf.vault, vf.keyEnv); other != "" {
		what := "use an environment of its own, -env NAME, or -key-env for another variable"
		if canonical := canonicalEnvName(name); vf.env != "" && canonical == vf.env && name != canonical {
			what = fmt.Sprintf("if it is the vault of environment %s, rename it to %s and keep its key", vf.env, envVault(vf.env))
		}
		return fmt.Errorf("%s, beside the new vault, reads its key from $%s too: a new key stored there would lock it out; nothing was written (%s)", other, vf.keyEnv, what)
	}
	root, notRepo := gitRoot()
	if err := checkGitFiles(root, vf.vault, keyPath); err != nil {
		return fmt.Errorf("%w; nothing was written", err)
	}
	vf.newKey = "new key made by init, saved to " + keyPath
	opts, err := vf.options()
	if err != nil {
		return err
	}
	// The key is ignored before it exists, so that it is never a file git
	// would commit.
	if err := ignoreSecrets(c, vf.vault, keyPath); err != nil {
		return err
	}
	if err := checkIgnored(keyPath); err != nil {
		return err
	}
	key := vault.GenerateKey()
	if err := vault.SaveKey(keyPath, key); err != nil {
		return err
	}
	if err := vault.Seal(vf.vault, map[string]any{}, key, opts, vault.WithNoClobber()); err != nil {
		os.Remove(keyPath) // ours, and of no use without its vault
		return err
	}
	fmt.Fprintf(c.stderr, "credvault: created %s, an empty vault, and its key %s (mode 0600, fingerprint %s)\n", vf.vault, keyPath, key.Fingerprint())
	if err := initGit(c, vf, notRepo); err != nil {
		return err
	}
	if set := c.getenv(vf.keyEnv); set != "" {
		what := "a keyring"
		if keys, err := vault.ParseKeyring(set); err == nil {
			what = "key " + keys[0].Fingerprint()
		}
		fmt.Fprintf(c.stderr, "credvault: careful: $%s is set here already, to %s, not the new key %s: if a vault is sealed with it, storing the new key as %s (here or in CI) would replace it, and that vault would no longer open; then make this vault under another environment name instead\n",
			vf.keyEnv, what, key.Fingerprint(), vf.keyEnv)
	}
	fmt.Fprintf(c.stderr, "credvault: give the key to CI as the secret %s (gh secret set %s < %s); here, pass -key-file %s or export %s=\"$(cat %s)\", then delete %s once it is stored safely\n",
		vf.keyEnv, vf.keyEnv, keyPath, keyPath, vf.keyEnv, keyPath, keyPath)
	return nil
}

// vaultOfKeyVar returns another vault beside path whose name gives it the
// key variable keyVar, and its environment name, or "": credentials.enc
// reads $MASTER_KEY, and credentials.NAME.enc $MASTER_KEY_NAME, read as
// earlier versions of credvault did, which accepted any case and '.' and
// '_' in NAME.
func vaultOfKeyVar(path, keyVar string) (other, env string) {
	dir := filepath.Dir(path)
	others, _ := filepath.Glob(filepath.Join(dir, envVault("*")))
	others = append(others, filepath.Join(dir, "credentials.enc"))
	for _, other := range others {
		if _, err := os.Lstat(other); err != nil || filepath.Clean(other) == filepath.Clean(path) {
			continue
		}
		v, env := "MASTER_KEY", ""
		if name, ok := strings.CutPrefix(filepath.Base(other), "credentials."); ok && name != "enc" {
			env = strings.TrimSuffix(name, ".enc")
			v = "MASTER_KEY_" + strings.Map(func(r rune) rune {
				if ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') || r == '_' {
					return r
				}
				return '_'
			}, strings.ToUpper(env))
		}
		if v == keyVar {
			return other, env
		}
	}
	return "", ""
}

// initForRecipients creates an empty vault under a new key that is wrapped
// for recipients in the recipients file beside the vault, and written
// nowhere else; both files are new.
func initForRecipients(c *cli, vf *vaultFlags, ids []string) error {
	keysPath := custody.KeysPath(vf.vault)
	for _, path := range []string{vf.vault, keysPath} {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s already exists: init creates a new vault and its recipients file, and replaces nothing; nothing was written (pass -vault or -env for another vault)", path)
		}
	}
	root, notRepo := gitRoot()
	if err := checkGitFiles(root, vf.vault, ""); err != nil {
		return fmt.Errorf("%w; nothing was written", err)
	}
	kms := kmsDrivers(c.getenv)
	var recipients []custody.Recipient
	for _, id := range ids {
		rc, err := custody.NewRecipient(id, "", kms)
		if err != nil {
			return usageError{strings.TrimPrefix(err.Error(), "custody: ")}
		}
		recipients = append(recipients, rc)
	}
	vf.newKey = "new key made by init for recipients " + recipientNames(recipients)
	opts, err := vf.options()
	if err != nil {
		return err
	}
	fingerprint, err := custody.Seal(context.Background(), vf.vault, map[string]any{}, recipients, kms, opts, vault.WithNoClobber())
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "credvault: created %s, an empty vault, and %s, its key wrapped for %s; the key itself is written nowhere\n", vf.vault, keysPath, recipientCount(len(recipients)))
	if err := ignoreSecrets(c, vf.vault, ""); err != nil {
		return err
	}
	if err := initGit(c, vf, notRepo); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "credvault: commit %s with the vault; pin the key where it is used: CREDVAULT_KEY_FINGERPRINT=%s\n", keysPath, fingerprint)
	return nil
}

// gitRoot returns the top directory of the git repository around the
// working directory, or "" and why not (outside one, or without git).
func gitRoot() (string, error) {
	return git("rev-parse", "--show-toplevel")
}

// initGit runs git-setup for the vault's environment inside a git
// repository, and says to run it later outside one (notRepo, from gitRoot,
// says why it is not one).
func initGit(c *cli, vf *vaultFlags, notRepo error) error {
	if notRepo != nil {
		fmt.Fprintf(c.stderr, "credvault: not in a git repository (%v): after git init, run \"credvault git-setup\"\n", notRepo)
		return nil
	}
	var envs []string
	if vf.env != "" {
		envs = append(envs, vf.env)
	}
	return gitSetup(c, envs)
}

// checkGitFiles refuses, before init writes anything, a .gitignore or
// .gitattributes it would write that git would not read (see
// checkGitFile): the .gitignore beside the vault, the one beside the key
// file when its name needs a line of its own (keyPath is "" when there is
// none), and the .gitattributes at root, the repository's top (or "").
func checkGitFiles(root, vaultPath, keyPath string) error {
	if err := checkGitFile(filepath.Join(filepath.Dir(vaultPath), ".gitignore"), ignoreWhy); err != nil {
		return err
	}
	if keyPath != "" && !strings.HasSuffix(keyPath, ".key") {
		if err := checkGitFile(filepath.Join(filepath.Dir(keyPath), ".gitignore"), ignoreWhy); err != nil {
			return err
		}
	}
	if root != "" {
		return checkGitFile(filepath.Join(root, ".gitattributes"), attributesWhy)
	}
	return nil
}

// checkIgnored refuses a key file that git would not ignore, in the git
// repository around it, if any: a rule that un-ignores it ("!*.key"), or
// the index, which tracks it. Outside a repository, or without git, there
// is nothing to check.
func checkIgnored(keyPath string) error {
	dir, name := filepath.Dir(keyPath), filepath.Base(keyPath)
	err := exec.Command("git", "-C", dir, "check-ignore", "-q", "--", name).Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		return nil // ignored (0), or not in a repository (128), or no git
	}
	// Without a rule that un-ignores it, the index tracks it.
	what := "git tracks it: git rm --cached " + keyPath
	if out, err := exec.Command("git", "-C", dir, "check-ignore", "-v", "-n", "--", name).Output(); err == nil {
		if rule, _, _ := strings.Cut(string(out), "\t"); rule != "" && rule != "::" {
			what = "remove the rule " + rule
		}
	}
	return fmt.Errorf("git would not ignore %s, and would commit it with the vault; no key or vault was written (%s, or pass -key-file with a path git ignores)", keyPath, what)
}

// ignoreLines are what init adds to .gitignore: keys, the plaintext files
// the README's recipes read, and the lock and temporary files a write may
// leave beside a vault.
var ignoreLines = []string{"*.key", "secrets.json", "secrets.*.json", "*.enc.lock", ".*.enc.tmp-*"}

// ignoreSecrets adds ignoreLines to the .gitignore beside the vault, and
// the key file's name, if any, to the .gitignore beside it if no line
// covers it.
func ignoreSecrets(c *cli, vaultPath, keyPath string) error {
	const header = "# credvault: keys and plaintext secrets never belong in git (credvault init)"
	report := func(file string, added []string, err error) error {
		for _, line := range added {
			fmt.Fprintf(c.stderr, "credvault: %s: added %s\n", file, line)
		}
		return err
	}
	ignore := filepath.Join(filepath.Dir(vaultPath), ".gitignore")
	added, err := addLines(ignore, header, ignoreWhy, ignoreLines)
	if err := report(ignore, added, err); err != nil {
		return err
	}
	if keyPath != "" && !strings.HasSuffix(keyPath, ".key") {
		ignore := filepath.Join(filepath.Dir(keyPath), ".gitignore")
		added, err := addLines(ignore, header, ignoreWhy, []string{"/" + filepath.Base(keyPath)})
		return report(ignore, added, err)
	}
	return nil
}
