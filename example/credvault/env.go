package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/credvault/vault"
)

// exportFormats are the -format values of env, and their exporters; github
// is built from $GITHUB_ENV when chosen.
var exportFormats = []string{"shell", "dotenv", "json", "github", "gitlab", "azure"}

func envCommand() *command {
	return &command{
		name:    "env",
		summary: "print all secrets as environment variables: shell, dotenv, json, github, gitlab or azure",
		example: `  set -e                                            # a script: stop if credvault fails (a wrong key)
  vars="$(credvault env -prefix APP_)"              # the assignment carries credvault's status;
  eval "$vars"; unset vars                          # eval "$(credvault env)" would hide it
  credvault env -prefix APP_ -format github         # GitHub Actions: masked, then into $GITHUB_ENV
  credvault exec -prefix APP_ ./deploy.sh           # GitLab and CIs that cannot mask: exec, not env
  credvault env -prefix DB_ -path database -format json`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(fs, c)
			ff := addFlattenFlags(fs)
			format := choiceFlag(fs, "format", "shell", "the output `format`: "+strings.Join(exportFormats, ", "), exportFormats...)
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("env takes no arguments")
				}
				v, err := vf.open()
				if err != nil {
					return err
				}
				var export vault.Exporter
				switch *format {
				case "shell":
					export = vault.ExportShell
				case "dotenv":
					export = vault.ExportDotenv
				case "json":
					export = vault.ExportJSON
				case "gitlab":
					export = vault.ExportGitLab
				case "azure":
					export = vault.ExportAzure
				case "github":
					path := c.getenv("GITHUB_ENV")
					if path == "" {
						return fmt.Errorf("$GITHUB_ENV is not set: -format github works inside a GitHub Actions step; elsewhere use -format shell")
					}
					envFile, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
					if err != nil {
						return fmt.Errorf("cannot open $GITHUB_ENV: %w", err)
					}
					defer envFile.Close()
					export = vault.GitHubExporter(envFile)
				}
				return v.Export(c.stdout, export, ff.prefix, ff.options()...)
			}
		},
	}
}

// flattenFlags are the flags that choose how a vault becomes variables.
type flattenFlags struct {
	prefix        string
	path          string
	allowReserved bool
	notSecret     []string
}

func addFlattenFlags(fs *flag.FlagSet) *flattenFlags {
	f := &flattenFlags{}
	fs.StringVar(&f.prefix, "prefix", "", "put `P` in front of every variable name, e.g. APP_")
	fs.StringVar(&f.path, "path", "", "only the secrets below the credential `path`, named from there")
	fs.BoolVar(&f.allowReserved, "allow-reserved", false, "allow reserved names, such as PATH, PS4, LD_PRELOAD, PYTHONPATH, GIT_SSH_COMMAND, SSL_CERT_FILE or GITHUB_* (refused by default; see the README)")
	fs.Func("not-secret", "the values at the credential `path` (or below it) are not secret: exported, never masked; repeatable", func(p string) error {
		f.notSecret = append(f.notSecret, p)
		return nil
	})
	return f
}

func (f *flattenFlags) options() []vault.FlattenOption {
	var opts []vault.FlattenOption
	if f.path != "" {
		opts = append(opts, vault.FromPath(f.path))
	}
	if f.allowReserved {
		opts = append(opts, vault.AllowReserved())
	}
	if len(f.notSecret) > 0 {
		opts = append(opts, vault.NotSecret(f.notSecret...))
	}
	return opts
}
