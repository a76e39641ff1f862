package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

func gitSetupCommand() *command {
	return &command{
		name:    "git-setup",
		summary: "configure this git repository to diff and merge vaults by credential (.gitattributes and git config)",
		example: `  credvault git-setup                  # once per clone: git config is not committed
  credvault git-setup -env prod        # also the vault of environment prod, with $MASTER_KEY_PROD
  git diff HEAD~1 -- credentials.enc   # then: values by path, never a token`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			var envs []string
			fs.Func("env", "also set up the vault of environment `NAME`, credentials.NAME.enc, with its own key variable (repeatable; those in the repository are found)", func(name string) error {
				if err := checkEnvName(name, "-env"); err != nil {
					return err
				}
				envs = append(envs, name)
				return nil
			})
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("git-setup takes no arguments")
				}
				return gitSetup(c, envs)
			}
		},
	}
}

// gitSetup makes git diff and merge vaults through credvault in the
// repository around the working directory: lines in .gitattributes at its
// root, and the drivers in its local git config. It changes only what is
// missing or different, so that running it twice changes nothing the second
// time. Each environment gets drivers of its own ("credvault-prod"), which
// pass -env, so that its vault is opened with its own key variable.
func gitSetup(c *cli, envs []string) error {
	root, err := git("rev-parse", "--show-toplevel")
	if err != nil {
		return fmt.Errorf("git-setup configures a git repository: %w", err)
	}
	attributes := filepath.Join(root, ".gitattributes")
	if err := checkGitFile(attributes, attributesWhy); err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	// git ls-files reads the .gitignore at the top, and would wait on a
	// named pipe there; through a link, which git skips, it reads nothing.
	ignore := filepath.Join(root, ".gitignore")
	if info, err := os.Lstat(ignore); err == nil && info.Mode()&fs.ModeSymlink == 0 {
		if err := checkGitFileInfo(ignore, ignoreWhy, info); err != nil {
			return fmt.Errorf("%w; nothing was changed", err)
		}
	}
	found, err := envVaultsInRepo()
	if err != nil {
		return err
	}
	envs = append(envs, found...)
	slices.Sort(envs)
	envs = slices.Compact(envs)

	self := driverCommand(c)
	lines := []string{"*.enc diff=credvault merge=credvault"}
	config := [][2]string{
		{"diff.credvault.textconv", self + " textconv"},
		{"merge.credvault.name", "credvault: merge vaults by credential"},
		{"merge.credvault.driver", self + " merge %O %A %B %P"},
	}
	for _, env := range envs {
		driver := "credvault-" + env
		lines = append(lines, fmt.Sprintf("%s diff=%s merge=%s", envVault(env), driver, driver))
		config = append(config,
			[2]string{"diff." + driver + ".textconv", self + " textconv -env " + env},
			[2]string{"merge." + driver + ".name", "credvault: merge vaults of environment " + env + " by credential"},
			[2]string{"merge." + driver + ".driver", self + " merge -env " + env + " %O %A %B %P"},
		)
	}

	changed := false
	added, err := addLines(attributes, "# credvault: diff and merge vaults by credential (credvault git-setup)", attributesWhy, lines)
	if err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	for _, line := range added {
		fmt.Fprintf(c.stderr, "credvault: %s: added %s\n", attributes, line)
		changed = true
	}
	if len(added) > 0 {
		fmt.Fprintf(c.stderr, "credvault: commit .gitattributes, so that every clone diffs and merges vaults by credential; each clone runs \"credvault git-setup\" once for its git config\n")
	}
	for _, kv := range config {
		if current, _ := git("config", "--local", "--get", kv[0]); current == kv[1] {
			continue
		}
		if _, err := git("config", "--local", kv[0], kv[1]); err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "credvault: git config: %s = %s\n", kv[0], kv[1])
		changed = true
	}
	// A cached textconv is kept in git notes, inside .git: decrypted
	// secrets would be stored there.
	for _, driver := range append([]string{"credvault"}, prefixed("credvault-", envs)...) {
		key := "diff." + driver + ".cachetextconv"
		if current, _ := git("config", "--local", "--get", key); current != "" {
			if _, err := git("config", "--local", "--unset-all", key); err != nil {
				return err
			}
			fmt.Fprintf(c.stderr, "credvault: git config: removed %s: it would keep decrypted vaults in .git\n", key)
			changed = true
		}
	}
	if !changed {
		fmt.Fprintf(c.stderr, "credvault: git is set up for credvault already in %s: nothing changed\n", root)
	}
	return nil
}

// driverCommand returns the command git's drivers run credvault by, which
// git gives to sh: "credvault" when it is on PATH, else the path of this
// binary (a CI job that runs ./credvault), with a warning: git would
// otherwise fail to run the drivers ("credvault: not found"), and a merge
// would leave a vault as it was on one side.
func driverCommand(c *cli) string {
	if _, err := exec.LookPath("credvault"); err == nil {
		return "credvault"
	}
	self, err := os.Executable()
	if err == nil {
		self, err = filepath.Abs(self)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "credvault: warning: credvault is not on PATH, and the path of this binary is unknown (%v): git cannot run the drivers until credvault is on PATH (install it there, such as in /usr/local/bin)\n", err)
		return "credvault"
	}
	fmt.Fprintf(c.stderr, "credvault: warning: credvault is not on PATH: git runs the drivers from this binary's path, %s; if it moves, run git-setup again, or install credvault on PATH (such as in /usr/local/bin) and run git-setup again\n", self)
	return shellQuote(self)
}

// shellQuote returns s as one word for sh: as it is when it holds only
// characters sh leaves alone, else in single quotes.
func shellQuote(s string) string {
	plain := s != ""
	for _, r := range s {
		if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:,@%=", r) {
			plain = false
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

// envVaultsInRepo returns the environments whose vault
// (credentials.NAME.enc) the repository tracks or holds, ignored files
// aside.
func envVaultsInRepo() ([]string, error) {
	out, err := git("ls-files", "--cached", "--others", "--exclude-standard", "--full-name", "-z", "--", ":(glob)**/credentials.*.enc")
	if err != nil {
		return nil, err
	}
	var envs []string
	for _, path := range strings.Split(out, "\x00") {
		base := filepath.Base(path)
		name, ok := strings.CutPrefix(base, "credentials.")
		if name, ok2 := strings.CutSuffix(name, ".enc"); ok && ok2 && checkEnvName(name, "") == nil {
			envs = append(envs, name)
		}
	}
	return envs, nil
}

// git runs git with args in the working directory and returns its output
// without the final newline.
func git(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("git", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", errors.New("git is not on PATH")
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", args[0], msg)
	}
	return strings.TrimSuffix(stdout.String(), "\n"), nil
}

// Why init and git-setup write .gitignore and .gitattributes, for the
// errors that refuse one: what would go wrong if git did not read it.
const (
	ignoreWhy     = "keys would not be ignored"
	attributesWhy = "vaults would not diff and merge by credential"
)

// checkGitFile refuses a .gitignore or .gitattributes that git would not
// read, before anything is written: a symbolic link, which git (2.32 and
// later) does not follow in the working tree, so that writing through it
// would change a file elsewhere to no effect, and anything but a regular
// file, such as a named pipe, which a read would wait on. A missing file
// is fine: it is created. why says what would go wrong (ignoreWhy).
func checkGitFile(path, why string) error {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return checkGitFileInfo(path, why, info)
}

func checkGitFileInfo(path, why string, info fs.FileInfo) error {
	name := filepath.Base(path)
	mode := info.Mode()
	kind := "not a regular file"
	switch {
	case mode.IsRegular():
		return nil
	case mode&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link: git does not read a %s through one, so %s; replace it with a regular file (such as a copy of what it points to)", path, name, why)
	case mode.IsDir():
		kind = "a directory"
	case mode&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case mode&fs.ModeDevice != 0:
		kind = "a device"
	case mode&fs.ModeSocket != 0:
		kind = "a socket"
	}
	return fmt.Errorf("%s is %s, not a text file: git reads its %s only from a regular file, so %s; remove it, or replace it with a regular file", path, kind, name, why)
}

// addLines appends to the text file at path each of lines it does not hold
// yet, after header if any is added, creating the file if need be, and
// returns the lines added. Nothing else in the file changes. Like
// checkGitFile, which it calls, it refuses anything but a regular file,
// without following a symbolic link or waiting on a named pipe.
func addLines(path, header, why string, lines []string) ([]string, error) {
	if err := checkGitFile(path, why); err != nil {
		return nil, err
	}
	// The file may have been replaced since: no link is followed, no pipe
	// waited on, and the open file is checked again.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|oNofollow|oNonblock, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkGitFileInfo(path, why, info); err != nil {
		return nil, err
	}
	old, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, line := range strings.Split(string(old), "\n") {
		have[strings.TrimSpace(line)] = true
	}
	var missing []string
	for _, line := range lines {
		if !have[line] {
			missing = append(missing, line)
			have[line] = true
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	var text strings.Builder
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		text.WriteString("\n")
	}
	if !have[header] {
		if len(old) > 0 {
			text.WriteString("\n")
		}
		text.WriteString(header + "\n")
	}
	for _, line := range missing {
		text.WriteString(line + "\n")
	}
	if _, err := io.WriteString(f, text.String()); err != nil {
		return nil, err
	}
	return missing, f.Close()
}
