package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/credvault/vault"
)

// completeCommand is the hidden command the completion scripts run on each
// Tab: "credvault __complete WORDS... CURRENT" prints what may follow. It is
// not in the command table because it parses no flags of its own.
const completeCommand = "__complete"

func completionCommand() *command {
	return &command{
		name:    "completion",
		args:    "bash|zsh|fish",
		summary: "print a shell completion script: commands, flags, their values, and credential paths when a key is at hand",
		example: `  source <(credvault completion bash)         # in ~/.bashrc
  credvault completion zsh > "${fpath[1]}/_credvault"
  credvault completion fish > ~/.config/fish/completions/credvault.fish`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			return func(args []string) error {
				if len(args) != 1 {
					return usagef("completion takes one shell: bash, zsh or fish")
				}
				script, ok := completionScripts[args[0]]
				if !ok {
					return usagef("no completion for %q: use bash, zsh or fish", args[0])
				}
				_, err := io.WriteString(c.stdout, script)
				return err
			}
		},
	}
}

// The completion scripts know no command or flag: they pass the words typed
// so far to "credvault __complete", which answers from the command table,
// so a new command or flag completes without a new script. The answer's
// first line is what to complete: "words" (the lines that follow, each a
// word and, after a tab, its description), "files", or "commands".
var completionScripts = map[string]string{
	"bash": `# bash completion for credvault, from "credvault completion bash".
_credvault() {
	local i cur words=()
	# Rejoin "-format=json", which bash splits at the "=".
	for ((i = 1; i <= COMP_CWORD; i++)); do
		if ((${#words[@]} > 0)) && [[ ${COMP_WORDS[i]} == = || ${COMP_WORDS[i-1]} == = ]]; then
			words[${#words[@]}-1]+=${COMP_WORDS[i]}
		else
			words+=("${COMP_WORDS[i]}")
		fi
	done
	cur=${words[${#words[@]}-1]}
	local IFS=$'\n' out
	out=($(command credvault __complete "${words[@]}" 2>/dev/null)) || return 0
	COMPREPLY=()
	case ${out[0]} in
	files) COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null ;;
	commands) COMPREPLY=($(compgen -c -- "$cur")) ;;
	words)
		local word strip=
		# Readline replaces only what follows the last "=" of the word.
		[[ $cur == *=* && $COMP_WORDBREAKS == *=* ]] && strip=${cur%=*}=
		for word in "${out[@]:1}"; do
			word=${word%%$'\t'*}
			COMPREPLY+=("$(printf '%q' "${word#"$strip"}")")
		done ;;
	esac
}
complete -F _credvault credvault
`,
	"zsh": `#compdef credvault
# zsh completion for credvault, from "credvault completion zsh".
_credvault() {
	local -a out candidates
	local line
	out=("${(@f)$(command credvault __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	case $out[1] in
	files) _files ;;
	commands) _command_names -e ;;
	words)
		for line in "${(@)out[2,-1]}"; do
			if [[ $line == *$'\t'* ]]; then
				candidates+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}")
			else
				candidates+=("${line//:/\\:}")
			fi
		done
		(( $#candidates )) && _describe -t credvault credvault candidates ;;
	esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
	_credvault "$@"
else
	compdef _credvault credvault
fi
`,
	"fish": `# fish completion for credvault, from "credvault completion fish".
function __credvault_complete
	set -l words (commandline -opc)
	set -l cur (commandline -ct)
	set -l out (command credvault __complete $words[2..-1] "$cur" 2>/dev/null)
	switch "$out[1]"
	case files
		__fish_complete_path "$cur"
	case commands
		__fish_complete_command "$cur"
	case words
		printf '%s\n' $out[2..-1]
	end
end
complete -c credvault -f -a '(__credvault_complete)'
`,
}

// runComplete answers the completion scripts: args are the words after
// "credvault", the last one the word being completed (maybe empty). It
// never fails and never writes to stderr: a Tab must not spill errors onto
// the line being typed.
func runComplete(args []string, c *cli) int {
	if len(args) == 0 {
		args = []string{""}
	}
	kind, candidates := complete(args[:len(args)-1], args[len(args)-1], c)
	fmt.Fprintln(c.stdout, kind)
	for _, cand := range candidates {
		fmt.Fprintln(c.stdout, cand)
	}
	return 0
}

// complete returns what may replace cur after the words before it: a kind
// ("words", "files" or "commands") and, for words, the candidates that
// start with cur, each a word and maybe a tab and its description.
func complete(before []string, cur string, c *cli) (kind string, candidates []string) {
	// The completing shell's stderr is the terminal: nothing may reach it.
	c = &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: c.getenv, environ: c.environ}
	if len(before) == 0 {
		if strings.HasPrefix(cur, "-") {
			return "words", matching(cur, "-h\tlist the commands", "--version\tprint the version")
		}
		var words []string
		for _, cmd := range commands() {
			if !cmd.hidden {
				words = append(words, cmd.name+"\t"+cmd.summary)
			}
		}
		return "words", matching(cur, words...)
	}
	cmd := lookup(before[0])
	if cmd == nil || cmd.hidden {
		return "words", nil
	}
	fs, _ := cmd.flags(c)
	vf := c.vaultFlags
	flags, positional, pending, dashes := scan(fs, before[1:], strings.Contains(cmd.args, "CMD"))
	fs.Parse(flags) // so that -vault and -key-file count; a mistake leaves the defaults

	switch {
	case pending != nil: // "-format <Tab>"
		return flagValues(pending, cur, vf)
	case dashes || !strings.HasPrefix(cur, "-") || (strings.Contains(cmd.args, "CMD") && len(positional) > 0):
		return argValues(cmd, len(positional), cur, vf)
	}
	if name, value, ok := strings.Cut(strings.TrimLeft(cur, "-"), "="); ok { // "-format=<Tab>"
		f := fs.Lookup(name)
		if f == nil {
			return "words", nil
		}
		kind, values := flagValues(f, value, vf)
		for i, v := range values {
			values[i] = cur[:len(cur)-len(value)] + v
		}
		return kind, values
	}
	var words []string
	fs.VisitAll(func(f *flag.Flag) {
		words = append(words, "-"+f.Name+"\t"+firstSentence(f.Usage))
	})
	return "words", matching(cur, append(words, "-h\tshow this command's help")...)
}

// scan sorts the words typed after a command's name as its flag parsing
// will: flags with their values, and positional arguments (all of them
// after "--", and after the first one when the command runs a CMD). pending
// is a flag at the end still waiting for its value.
func scan(fs *flag.FlagSet, words []string, runsCommand bool) (flags, positional []string, pending *flag.Flag, dashes bool) {
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case dashes || (runsCommand && len(positional) > 0):
			positional = append(positional, w)
		case w == "--":
			dashes = true
		case strings.HasPrefix(w, "-") && w != "-":
			name, _, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
			f := fs.Lookup(name)
			if f == nil || hasValue || isBoolFlag(f) {
				flags = append(flags, w)
			} else if i+1 < len(words) {
				flags = append(flags, w, words[i+1])
				i++
			} else {
				pending = f
			}
		default:
			positional = append(positional, w)
		}
	}
	return flags, positional, pending, dashes
}

// flagValues completes the value of flag f: the choices of a choice flag,
// files for a flag whose value is a `file`, credential paths for a `path`,
// the environments here for -env, the key variables set for a `variable`.
func flagValues(f *flag.Flag, cur string, vf *vaultFlags) (string, []string) {
	if cv, ok := f.Value.(*choiceValue); ok {
		return "words", matching(cur, cv.choices...)
	}
	switch name, _ := flag.UnquoteUsage(f); {
	case name == "file" || name == "dir":
		return "files", nil
	case name == "path":
		return "words", matching(cur, credentialPaths(vf, true)...)
	case f.Name == "env":
		return "words", matching(cur, environments()...)
	case name == "variable" && vf != nil:
		var names []string
		for _, kv := range vf.c.environ() {
			if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "MASTER_KEY") {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		return "words", matching(cur, names...)
	}
	return "words", nil
}

// environments returns the environments whose vaults are in the current
// directory: prod for credentials.prod.enc.
func environments() []string {
	matches, _ := filepath.Glob(envVault("*"))
	var names []string
	for _, m := range matches {
		if name := strings.TrimSuffix(strings.TrimPrefix(m, "credentials."), ".enc"); isEnvName(name) {
			names = append(names, name)
		}
	}
	return names
}

// argValues completes the n-th positional argument of cmd, from its
// synopsis: alternatives such as "bash|zsh|fish" as words, a command name
// for help, credential paths for PATH, a command for CMD, else files.
func argValues(cmd *command, n int, cur string, vf *vaultFlags) (string, []string) {
	var args []string
	for _, a := range strings.Fields(cmd.args) {
		if a != "--" {
			args = append(args, a)
		}
	}
	if len(args) == 0 {
		return "words", nil
	}
	arg := args[min(n, len(args)-1)]
	if n >= len(args) && !strings.HasSuffix(arg, "...") {
		return "words", nil
	}
	arg = strings.Trim(arg, "[].")
	switch {
	case cmd.name == "help" && arg == "COMMAND":
		var names []string
		for _, c := range commands() {
			if !c.hidden {
				names = append(names, c.name)
			}
		}
		return "words", matching(cur, names...)
	case strings.Contains(arg, "|"):
		return "words", matching(cur, strings.Split(arg, "|")...)
	case arg == "PATH":
		return "words", matching(cur, credentialPaths(vf, false)...)
	case arg == "CMD":
		return "commands", nil
	}
	return "files", nil
}

// credentialPaths returns the vault's credential paths (with objects,
// those that hold values, for -path), or nothing unless a key is at hand:
// in the key file or the key variable. It takes no other route: a key
// command or an age identity may ask for a passphrase, and a KMS is a
// network call. It writes nothing on the terminal; the open is audited to
// the audit file when one is set ($CREDVAULT_AUDIT or -audit).
func credentialPaths(vf *vaultFlags, objects bool) []string {
	if vf == nil {
		return nil
	}
	var keys []*vault.Key
	var err error
	switch {
	case vf.keyFile != "":
		keys, err = readKeyFile(vf.keyFile, io.Discard)
	case vf.keyEnv != "" && vf.c.getenv(vf.keyEnv) != "":
		keys, err = vault.ParseKeyring(vf.c.getenv(vf.keyEnv))
	default:
		return nil
	}
	if err != nil {
		return nil
	}
	opts, err := vf.options()
	if err != nil {
		return nil
	}
	v, err := vault.Open(vf.vault, keys, opts)
	if err != nil {
		return nil
	}
	paths := v.Paths()
	if !objects {
		return paths
	}
	var parents []string
	for _, p := range paths {
		for i := len(p) - 1; i > 0; i-- {
			if p[i] == '.' && !escaped(p, i) && !slices.Contains(parents, p[:i]) {
				parents = append(parents, p[:i])
			}
		}
	}
	slices.Sort(parents)
	return parents
}

// escaped reports whether p[i] is escaped by an odd number of backslashes.
func escaped(p string, i int) bool {
	n := 0
	for i--; i >= 0 && p[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// matching returns the candidates whose word (before any tab) starts with
// prefix.
func matching(prefix string, candidates ...string) []string {
	var out []string
	for _, c := range candidates {
		word, _, _ := strings.Cut(c, "\t")
		if strings.HasPrefix(word, prefix) {
			out = append(out, c)
		}
	}
	return out
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// firstSentence shortens a flag's usage for a completion menu.
func firstSentence(usage string) string {
	usage = strings.ReplaceAll(usage, "`", "")
	if i := strings.IndexAny(usage, ";("); i > 0 {
		usage = usage[:i]
	}
	return strings.TrimSpace(usage)
}

// A choiceValue is a string flag that takes one of a fixed list of values,
// which completion offers.
type choiceValue struct {
	value   *string
	choices []string
}

func choiceFlag(fs *flag.FlagSet, name, value, usage string, choices ...string) *string {
	v := &choiceValue{value: &value, choices: choices}
	fs.Var(v, name, usage)
	return v.value
}

func (v *choiceValue) String() string {
	if v == nil || v.value == nil {
		return ""
	}
	return *v.value
}

func (v *choiceValue) Set(s string) error {
	if !slices.Contains(v.choices, s) {
		return fmt.Errorf("use one of %s", strings.Join(v.choices, ", "))
	}
	*v.value = s
	return nil
}
