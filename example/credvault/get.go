package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/credvault/vault"
)

func getCommand() *command {
	return &command{
		name:    "get",
		args:    "PATH",
		summary: "print one value, and a newline unless it ends with one",
		example: `  credvault get database.password
  credvault get -vault prod.enc 'servers.db\.example\.com.password'
  credvault get hosts.0
  credvault get -raw ssh.private_key | credvault set -raw ssh.backup_key   # a copy, byte for byte`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(fs, c)
			raw := fs.Bool("raw", false, "print the value byte for byte, with no newline added (for \"get -raw A | set -raw B\")")
			return func(args []string) error {
				if len(args) != 1 {
					return usagef("get takes one credential PATH, such as database.password")
				}
				v, err := vf.open()
				if err != nil {
					return err
				}
				value, err := v.Get(args[0])
				if err != nil {
					return err
				}
				if _, err := io.WriteString(c.stdout, value); err != nil {
					return err
				}
				if !*raw && !strings.HasSuffix(value, "\n") {
					if _, err := io.WriteString(c.stdout, "\n"); err != nil {
						return err
					}
				}
				warnCILog(c, "get", "the value")
				return nil
			}
		},
	}
}

// warnCILog warns, on stderr, that what a command prints is in clear when
// a CI platform is detected and stdout is a pipe or a socket: the job's log,
// as likely as a command substitution, which credvault cannot tell apart.
// A terminal or a file is no log. It warns rather than refuses, because
// password="$(credvault get database.password)" in a CI script is safe.
func warnCILog(c *cli, command, what string) {
	warnCILogTo(c, command, what, `run the step with "credvault exec", or export with "credvault env -format github" or "azure", which mask it`)
}

// warnCILogTo is warnCILog with the advice that follows the warning.
func warnCILogTo(c *cli, command, what, advice string) {
	p := vault.DetectPipeline(c.getenv)
	if p.Platform == "local" || !mayBeLog(c.stdout) {
		return
	}
	fmt.Fprintf(c.stderr, "credvault %s: warning: in CI (%s), %s went to stdout in clear: if stdout is the job's log, it shows there unmasked; %s\n", command, p.Platform, what, advice)
}

// mayBeLog reports whether w is a pipe or a socket, such as a CI runner's
// log collector.
func mayBeLog(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&(fs.ModeNamedPipe|fs.ModeSocket) != 0
}
