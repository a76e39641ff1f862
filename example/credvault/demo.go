package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/credvault/vault"
)

func demoCommand() *command {
	return &command{
		name:    "demo",
		summary: "run an end-to-end demo on a fresh key and vault in a temporary directory",
		example: `  go run ./example/credvault demo`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("demo takes no arguments")
				}
				return runDemo(c)
			}
		},
	}
}

// demoSecrets are the example credentials of the blog post credvault grew
// from; the values are fake.
const demoSecrets = `{
  "database": {
    "host": "db.example.com",
    "port": 5432,
    "username": "app_user",
    "password": "s3cret!P@ss"
  },
  "api_keys": {
    "stripe": "sk_live_xxxxx",
    "aws": "AKIAIOSFODNN7EXAMPLE"
  },
  "ssh": {
    "private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpA..."
  }
}
`

// runDemo walks through the life of a vault with the real commands, in a
// temporary directory that it removes at the end. It prints no secret but
// the one it asks for, database.password, and no key.
func runDemo(c *cli) (err error) {
	dir, err := os.MkdirTemp("", "credvault-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	if err := os.Chdir(dir); err != nil {
		return err
	}
	defer os.Chdir(cwd)

	say := func(format string, args ...any) { fmt.Fprintf(c.stdout, format+"\n", args...) }
	// step runs one command as a user would type it and shows its output.
	step := func(getenv func(string) string, stdin string, args ...string) error {
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = a
			if strings.ContainsAny(a, " \"$'") {
				quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
			}
		}
		shown := "credvault " + strings.Join(quoted, " ")
		if stdin != "" {
			shown += " < secrets.json"
		}
		say("\n$ %s", shown)
		sub := &cli{stdin: strings.NewReader(stdin), stdout: c.stdout, stderr: c.stdout, getenv: getenv, environ: os.Environ}
		if status := run(args, sub); status != 0 {
			return fmt.Errorf("demo step %q failed with exit status %d", shown, status)
		}
		return nil
	}
	noEnv := func(string) string { return "" }

	say("credvault demo: a fresh key and vault in %s (removed at the end).", dir)
	say("The secrets are the fake example credentials of the seed blog post.")

	if err := step(noEnv, "", "keygen", "-o", "master.key"); err != nil {
		return err
	}
	if err := step(noEnv, demoSecrets, "seal", "-key-file", "master.key", "-vault", "credentials.enc"); err != nil {
		return err
	}
	token, err := os.ReadFile("credentials.enc")
	if err != nil {
		return err
	}
	say("credentials.enc is one Fernet token of %d bytes, starting %q: Python's Fernet(key).decrypt opens it.", len(token), token[:8])

	if err := step(noEnv, "", "get", "-key-file", "master.key", "database.password"); err != nil {
		return err
	}

	// The same read with the key in the environment, as a pipeline does it.
	key, err := os.ReadFile("master.key")
	if err != nil {
		return err
	}
	defer clear(key)
	envKey := string(bytes.TrimSpace(key))
	fromEnv := func(name string) string {
		if name == "MASTER_KEY" {
			return envKey
		}
		return ""
	}
	say("\nIn a pipeline the key comes from the CI's secret store as $MASTER_KEY:")
	if err := step(fromEnv, "", "get", "database.password"); err != nil {
		return err
	}

	say("\nA deploy step gets the secrets in its environment only, and whatever it prints is masked:")
	if err := step(fromEnv, "", "exec", "-prefix", "APP_", "--", "sh", "-c", `echo "connecting to $APP_DATABASE_HOST as $APP_DATABASE_USERNAME with $APP_DATABASE_PASSWORD"`); err != nil {
		return err
	}

	// A wrong key fails closed, with a message that says what to do.
	wrong := vault.GenerateKey().Encode()
	wrongEnv := func(name string) string {
		if name == "MASTER_KEY" {
			return wrong
		}
		return ""
	}
	say("\nWith a different key in $MASTER_KEY, nothing is released:")
	if err := step(wrongEnv, "", "get", "database.password"); err == nil {
		return fmt.Errorf("demo: a wrong key opened the vault")
	}
	say("\nA typo in the path names what exists instead (names only, never values):")
	if err := step(fromEnv, "", "get", "database.pasword"); err == nil {
		return fmt.Errorf("demo: a wrong path found a value")
	}
	say("\nDone; %s is removed.", dir)
	return nil
}
