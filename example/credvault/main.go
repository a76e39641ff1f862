// Command credvault is the command-line face of package vault: it seals a
// deployment pipeline's credentials into one Fernet-encrypted file and hands
// them out on demand.
//
// Usage:
//
//	credvault COMMAND [flags] [args]
//
// Run "credvault help" for the commands, "credvault COMMAND -h" for one.
// The key is read from the environment variable named by -key-env (default
// MASTER_KEY) or from -key-file, never from the command line. Exit status is
// 0 on success, 2 for a usage error and 1 for any other failure.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/credvault/vault"
)

func main() {
	os.Exit(realMain())
}

// realMain is main but for the exit, so that the tests can run it as the
// credvault command.
func realMain() int {
	// The key may be in this process's environment: keep other processes
	// of this user, such as the child of exec, out of /proc/<pid>/environ.
	if err := vault.HardenProcess(); err != nil {
		fmt.Fprintf(os.Stderr, "credvault: warning: %v\n", err)
	}
	return run(os.Args[1:], &cli{
		stdin:   os.Stdin,
		stdout:  os.Stdout,
		stderr:  os.Stderr,
		getenv:  os.Getenv,
		environ: os.Environ,
	})
}

// A cli is what a command may touch of the outside world. Tests and the demo
// give it buffers and a chosen environment.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	environ        func() []string // the whole environment, for a child's

	atExit []func() // run when the command ends, such as closing the audit log

	vaultFlags *vaultFlags // the command's, once declared: completion reads them
}

// A command is one subcommand: its flags and arguments are parsed by setup,
// then run does the work.
type command struct {
	name    string
	args    string // the synopsis after the flags, e.g. "PATH"
	summary string
	example string
	hidden  bool // left out of help, completion and the manual
	// runs says that the arguments are a command to run: flags end at its
	// name, as with env, sudo and nice, so that its own flags are its.
	runs bool
	// setup declares the command's flags on fs and returns the function that
	// runs it with the positional arguments.
	setup func(fs *flag.FlagSet, c *cli) func(args []string) error
}

func commands() []*command {
	return []*command{
		keygenCommand(),
		sealCommand(),
		getCommand(),
		showCommand(),
		setCommand(),
		unsetCommand(),
		editCommand(),
		rotateCommand(),
		statusCommand(),
		recipientsCommand(),
		envCommand(),
		execCommand(),
		textconvCommand(),
		mergeCommand(),
		gitSetupCommand(),
		initCommand(),
		demoCommand(),
		completionCommand(),
		manCommand(),
		versionCommand(),
		helpCommand(),
	}
}

// lookup returns the command called name, or nil.
func lookup(name string) *command {
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd
		}
	}
	return nil
}

// run executes the command line args and returns the exit status.
func run(args []string, c *cli) int {
	if len(args) == 0 {
		printUsage(c.stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	case "-version", "--version":
		name = "version"
	}
	if name == completeCommand {
		return runComplete(args[1:], c)
	}
	if cmd := lookup(name); cmd != nil {
		return runCommand(cmd, args[1:], c)
	}
	fmt.Fprintf(c.stderr, "credvault: %s\n", unknownCommand(name))
	return 2
}

// unknownCommand says that name is not a command, suggests the nearest one,
// and points to the list.
func unknownCommand(name string) string {
	if strings.HasPrefix(name, "-") {
		return fmt.Sprintf("unknown flag %s: flags follow the command, as in \"credvault get -vault FILE PATH\"; run \"credvault help\" for the commands", name)
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if near := nearest(name); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	}
	if !strings.HasSuffix(msg, "?") {
		msg += "."
	}
	return msg + ` Run "credvault help" for the commands.`
}

// nearest returns the visible command whose name is closest to name: one
// that starts with it, or within an edit distance of a third of its length
// (at least 1); "" if none is that close.
func nearest(name string) string {
	best, bestDist := "", max(1, len(name)/3)
	for _, cmd := range commands() {
		if cmd.hidden {
			continue
		}
		if name != "" && strings.HasPrefix(cmd.name, name) {
			return cmd.name
		}
		if d := editDistance(name, cmd.name); d <= bestDist && (best == "" || d < bestDist) {
			best, bestDist = cmd.name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counting a
// swap of two neighbouring letters as one edit ("gte" is one from "get").
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// flags declares cmd's flags on a new FlagSet and returns it with the
// function that runs the command. Declaring flags has no other effect, so
// help, completion and the manual call it to list them.
func (cmd *command) flags(c *cli) (*flag.FlagSet, func([]string) error) {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	do := cmd.setup(fs, c)
	return fs, do
}

func runCommand(cmd *command, args []string, c *cli) int {
	fs, do := cmd.flags(c)
	var positional []string
	var err error
	if cmd.runs {
		err = fs.Parse(args)
		positional = fs.Args()
	} else {
		positional, err = parseFlags(fs, args)
	}
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(c.stdout, cmd, fs)
		return 0
	}
	if err != nil {
		usageFailed(c.stderr, cmd, err)
		return 2
	}
	if err := keyOnCommandLine(fs, positional, cmd.runs); err != nil {
		return report(c.stderr, cmd, err)
	}
	defer func() {
		for _, f := range c.atExit {
			f()
		}
		c.atExit = nil
	}()
	if err := do(positional); err != nil {
		return report(c.stderr, cmd, err)
	}
	return 0
}

// parseFlags parses flags anywhere among the arguments ("get PATH -vault F"
// as well as "get -vault F PATH"), up to a "--", after which everything is
// positional.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		// flag stops at the first non-flag, or after a "--" it consumed.
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// A usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// An exitStatus ends a command with a given status after printing its
// message, if any: 128+N after signal N, or a child's own status.
type exitStatus struct {
	code int
	msg  string
}

func (e exitStatus) Error() string { return e.msg }

// report prints err for the user and returns the exit status it deserves.
// It is the one place where errors become messages and statuses.
func report(w io.Writer, cmd *command, err error) int {
	if ue := (usageError{}); errors.As(err, &ue) {
		usageFailed(w, cmd, err)
		return 2
	}
	if es := (exitStatus{}); errors.As(err, &es) {
		if es.msg != "" {
			fmt.Fprintf(w, "credvault %s: %s\n", cmd.name, es.msg)
		}
		return es.code
	}
	// The library's messages start with its package name; the command's
	// name says the same to a user of the command.
	fmt.Fprintf(w, "credvault %s: %s\n", cmd.name, libraryMessage(err))
	if h := hint(err); h != "" {
		fmt.Fprintf(w, "credvault %s: hint: %s\n", cmd.name, h)
	}
	return 1
}

// usageFailed reports a mistake in cmd's command line: the error, and where
// the usage is, rather than the whole of it, which would bury the one line
// that says what is wrong (-h and "help COMMAND" print it).
func usageFailed(w io.Writer, cmd *command, err error) {
	fmt.Fprintf(w, "credvault %s: %v\n", cmd.name, err)
	fmt.Fprintf(w, "credvault %s: run 'credvault %s -h' for usage\n", cmd.name, cmd.name)
}

// usageIntro and usageNotes frame the list of commands in the general
// help; the manual says the same.
const (
	usageIntro = "credvault keeps a pipeline's credentials in one Fernet-encrypted file."
	usageNotes = `The key is read from $MASTER_KEY (or -key-env NAME, or -key-file FILE), never
from the command line. A keyring "new,old" opens vaults sealed with either key
and seals with the first.

Exit status: 0 success, 2 usage error, 1 any other failure.`
)

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  credvault COMMAND [flags] [args]\n\nCommands:\n", usageIntro)
	width := 0
	for _, cmd := range commands() {
		if !cmd.hidden {
			width = max(width, len(cmd.name))
		}
	}
	for _, cmd := range commands() {
		if !cmd.hidden {
			fmt.Fprintf(w, "  %-*s  %s\n", width, cmd.name, cmd.summary)
		}
	}
	fmt.Fprintf(w, "\n%s\n", usageNotes)
	fmt.Fprint(w, `Run "credvault help COMMAND" (or "credvault COMMAND -h") for a command's
flags and an example.
`)
}

func commandUsage(w io.Writer, cmd *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n\n%s.\n", synopsis(cmd), cmd.summary)
	if flags := flagHelp(fs); len(flags) > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		for _, f := range flags {
			fmt.Fprintf(w, "  %s\n    \t%s\n", f.synopsis, strings.ReplaceAll(f.text, "\n", "\n    \t"))
		}
	}
	fmt.Fprintf(w, "\nExample:\n%s\n", cmd.example)
}

// synopsis is a command's usage line: "credvault get [flags] PATH".
func synopsis(cmd *command) string {
	return strings.TrimSpace("credvault " + cmd.name + " [flags] " + cmd.args)
}

// A flagEntry is one flag as help shows it: "-vault file", and its text
// with the default.
type flagEntry struct {
	name, synopsis, text string
}

// flagHelp returns fs's flags as the flag package prints them, so that help
// and the manual say the same as PrintDefaults would.
func flagHelp(fs *flag.FlagSet) []flagEntry {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	var entries []flagEntry
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if text, ok := strings.CutPrefix(line, "    \t"); ok && len(entries) > 0 {
			e := &entries[len(entries)-1]
			e.text = strings.TrimPrefix(e.text+"\n"+text, "\n")
			continue
		}
		// "  -name arg", or "  -x\tusage" for a one-letter flag without one.
		head, text, _ := strings.Cut(strings.TrimPrefix(line, "  "), "\t")
		name, _, _ := strings.Cut(strings.TrimPrefix(head, "-"), " ")
		entries = append(entries, flagEntry{name: name, synopsis: head, text: text})
	}
	if b.Len() == 0 {
		return nil
	}
	return entries
}

// libraryMessage returns err's message without the library's package
// name ("vault: ", "custody: "): the command's name says the same.
func libraryMessage(err error) string {
	msg := err.Error()
	for _, prefix := range []string{"vault: ", "custody: "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	return msg
}
