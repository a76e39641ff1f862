package main

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
)

func manCommand() *command {
	return &command{
		name:    "man",
		summary: "print the manual page, credvault(1), made from the same text as help",
		example: `  credvault man | man -l -
  credvault man > /usr/local/share/man/man1/credvault.1`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("man takes no arguments")
				}
				v := version
				if info, ok := debug.ReadBuildInfo(); ok && v == "" {
					v = info.Main.Version
				}
				_, err := io.WriteString(c.stdout, manPage(v))
				return err
			}
		},
	}
}

// manPage returns the manual page in roff (man macros): the general help,
// then each command's usage, summary, flags and example as help shows them,
// the environment variables the flags name, and the exit status. The flags
// come from a command line without environment, so that their defaults are
// the documented ones.
func manPage(version string) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	source := strings.TrimSpace("credvault " + strings.TrimPrefix(version, "(devel)"))
	line(`.TH CREDVAULT 1 "" "%s" "User Commands"`, source)
	line(".nr HY 0") // no hyphenation: the man macros restore this at each paragraph
	line(".nh")
	line(".ad l")
	line(".SH NAME")
	line(`credvault \- keep a pipeline\(aqs credentials in one encrypted file and hand them out`)
	line(".SH SYNOPSIS")
	line(`.B credvault`)
	line(`.I COMMAND`)
	line(`.RI [ flags ]\ [ args ]`)
	line(".SH DESCRIPTION")
	text(&b, usageIntro)
	line(".PP")
	text(&b, strings.Split(usageNotes, "\n\n")[0])
	line(".SH COMMANDS")

	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, environ: func() []string { return nil }}
	variables := map[string][]string{} // $NAME to the flags that name it
	for _, cmd := range commands() {
		if cmd.hidden {
			continue
		}
		fs, _ := cmd.flags(c)
		line(`.SS "%s"`, roff(synopsis(cmd), true))
		text(&b, cmd.summary+".")
		for _, f := range flagHelp(fs) {
			name, arg, _ := strings.Cut(f.synopsis, " ")
			if arg == "" {
				line(".TP\n.B %s", roff(name, true))
			} else {
				line(".TP\n.BI %s \" %s\"", roff(name, true), roff(arg, true))
			}
			text(&b, f.text)
			for _, v := range envVariable.FindAllString(f.text, -1) {
				if v != "$MASTER_KEY" && !slices.Contains(variables[v], name) {
					variables[v] = append(variables[v], name)
				}
			}
		}
		line(".PP\nExample:\n.RS 2\n.EX")
		for _, l := range strings.Split(cmd.example, "\n") {
			line("%s", roff(l, false))
		}
		line(".EE\n.RE")
	}

	line(".SH ENVIRONMENT")
	line(".TP\n.B MASTER_KEY")
	text(&b, "the keyring, keys separated by commas, spaces or newlines, newest first (another variable with -key-env).")
	names := make([]string, 0, len(variables))
	for v := range variables {
		names = append(names, v)
	}
	slices.Sort(names)
	for _, v := range names {
		line(".TP\n.B %s", roff(strings.TrimPrefix(v, "$"), true))
		text(&b, "see "+strings.Join(variables[v], ", ")+".")
	}
	line(".SH EXIT STATUS")
	text(&b, strings.TrimPrefix(strings.Split(usageNotes, "\n\n")[1], "Exit status: "))
	text(&b, "exec exits with its command's status.")
	line(".SH SEE ALSO")
	line(`\fBcredvault help\fR \fICOMMAND\fR; https://pkg.go.dev/github.com/credvault/vault`)
	return b.String()
}

// envVariable finds the environment variables a flag's text names.
var envVariable = regexp.MustCompile(`\$[A-Z][A-Z0-9_]*[A-Z0-9]`)

// text writes s as filled roff text, a paragraph of lines.
func text(b *strings.Builder, s string) {
	for _, l := range strings.Split(s, "\n") {
		b.WriteString(roff(l, false) + "\n")
	}
}

// roff escapes s for a roff text line or, with arg, a quoted macro
// argument: backslashes, hyphens as \- (so that options can be copied),
// quotes as themselves, and a leading dot or quote made text.
func roff(s string, arg bool) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`, "'", `\(aq`, "`", `\(ga`).Replace(s)
	if arg {
		s = strings.ReplaceAll(s, `"`, `\(dq`)
	}
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, `\(aq`) {
		s = `\&` + s
	}
	return s
}
