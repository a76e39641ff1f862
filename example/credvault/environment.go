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
// the name upper-cased, each '-' written as '_': -env eu-west-2 reads
// $MASTER_KEY_EU_WEST_2. Environment names (see checkEnvName) make this
// one-to-one: no two environments share a key variable.
func envKeyVar(name string) string {
	return "MASTER_KEY_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// checkEnvName refuses a name that is not an environment name: lower-case
// letters, digits and '-', starting with a letter or digit. So a name
// never names a path elsewhere, and each name has a key variable of its
// own: with Prod beside prod, or eu_west and eu.west beside eu-west, two
// vaults with two keys would read one variable. A name that differs from
// one only in case or in '.' or '_' gets that one suggested.
func checkEnvName(name, from string) error {
	if isEnvName(name) {
		return nil
	}
	if canonical := canonicalEnvName(name); canonical != "" {
		return usagef("%s %q is not an environment name: names are lower-case letters, digits and '-', so that each has a key variable of its own (%s is that of %s): use %s (and rename a vault %s to %s)",
			from, name, envKeyVar(canonical), canonical, canonical, envVault(name), envVault(canonical))
	}
	return usagef("%s %q is not an environment name: use lower-case letters, digits and '-', starting with a letter or digit (such as prod or eu-west-2)", from, name)
}

// canonicalEnvName returns the environment name that name differs from
// only in case or in '.' and '_' for '-' (eu-west for EU_West), or "".
func canonicalEnvName(name string) string {
	canonical := strings.Map(func(r rune) rune {
		if r == '.' || r == '_' {
			return '-'
		}
		return r
	}, strings.ToLower(name))
	if !isEnvName(canonical) {
		return ""
	}
	return canonical
}

// isEnvName reports whether name is an environment name: 1 to 64
// lower-case letters, digits and '-', the first a letter or digit.
func isEnvName(name string) bool {
	if name == "" || len(name) > 64 || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !('a' <= c && c <= 'z') && !('0' <= c && c <= '9') && c != '-' {
			return false
		}
	}
	return true
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
	fs.Func("env", "select the environment `NAME`: vault credentials.NAME.enc, keyring in $MASTER_KEY_NAME (upper-cased, '-' as '_'); lower-case letters, digits and '-'; never $MASTER_KEY; default $CREDVAULT_ENV", func(name string) error {
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
