package main

import (
	"flag"
	"strings"
)

// Environments: -env NAME (or $CREDVAULT_ENV) selects the vault
// credentials.NAME.enc and the key variable MASTER_KEY_<NAME>, so that
// staging and production keep separate vaults and keys without -vault and
// -key-env in every job. A selected environment never falls back to
// $MASTER_KEY: a production job with no production key fails rather than
// open another vault with another key.
//
// What wins, first to last: -vault and -key-env; -env; $CREDVAULT_VAULT
// (the vault only); $CREDVAULT_ENV; credentials.enc and MASTER_KEY.

// envVault returns the vault file of environment name: credentials.NAME.enc.
func envVault(name string) string { return "credentials." + name + ".enc" }

// envKeyVar returns the key variable of environment name: MASTER_KEY_ and
// the name upper-cased, each character that cannot be in a portable
// variable name (a dash, a dot) written as an underscore: -env eu-west.2
// reads $MASTER_KEY_EU_WEST_2.
func envKeyVar(name string) string {
	var b strings.Builder
	b.WriteString("MASTER_KEY_")
	for _, r := range strings.ToUpper(name) {
		if ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// checkEnvName refuses a name that cannot make a vault file name beside the
// others: it must start with a letter or digit and hold only letters,
// digits, '_', '-' and '.', so that it never names a path elsewhere.
func checkEnvName(name, from string) error {
	ok := name != "" && len(name) <= 64 && isAlnum(name[0])
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = isAlnum(c) || c == '_' || c == '-' || c == '.'
	}
	if !ok {
		return usagef("%s %q is not an environment name: use letters, digits, '_', '-' and '.', starting with a letter or digit (such as prod or eu-west)", from, name)
	}
	return nil
}

func isAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// A givenString is a string flag that records whether the command line set
// it, so that -env changes only what -vault and -key-env left alone.
type givenString struct {
	value *string
	given *bool
}

func (s givenString) String() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

func (s givenString) Set(v string) error {
	*s.value, *s.given = v, true
	return nil
}

// addEnvFlags declares -vault, -key-env and -env, and applies
// $CREDVAULT_ENV and $CREDVAULT_VAULT as their defaults.
func (f *vaultFlags) addEnvFlags(fs *flag.FlagSet, withVault bool) {
	f.vault, f.keyEnv = "credentials.enc", "MASTER_KEY"
	if withVault {
		fs.Var(givenString{&f.vault, &f.vaultGiven}, "vault", "the vault `file`; $CREDVAULT_VAULT sets another default, and -env NAME selects credentials.NAME.enc")
	}
	fs.Var(givenString{&f.keyEnv, &f.keyEnvGiven}, "key-env", "the environment `variable` that holds the keyring; -env NAME selects MASTER_KEY_NAME")
	fs.Func("env", "select the environment `NAME`: vault credentials.NAME.enc, keyring in $MASTER_KEY_NAME (upper-cased; '-' and '.' become '_'), never $MASTER_KEY; default $CREDVAULT_ENV", func(name string) error {
		if err := checkEnvName(name, "-env"); err != nil {
			return err
		}
		f.envErr = nil // the command line overrides a bad $CREDVAULT_ENV
		f.selectEnv(name)
		return nil
	})
	if name := f.c.getenv("CREDVAULT_ENV"); name != "" {
		if f.envErr = checkEnvName(name, "$CREDVAULT_ENV"); f.envErr == nil {
			f.selectEnv(name)
		}
	}
	if path := f.c.getenv("CREDVAULT_VAULT"); path != "" {
		f.vault = path
	}
}

// selectEnv makes name the environment, changing the vault and the key
// variable unless the command line gave them.
func (f *vaultFlags) selectEnv(name string) {
	f.env = name
	if !f.vaultGiven {
		f.vault = envVault(name)
	}
	if !f.keyEnvGiven {
		f.keyEnv = envKeyVar(name)
	}
}

// envNote explains, for a missing key variable, that an environment chose
// it: "" without one.
func (f *vaultFlags) envNote() string {
	if f.env == "" || f.keyEnvGiven {
		return ""
	}
	return " (the key variable of environment " + f.env + "; $MASTER_KEY is not used for an environment)"
}
