package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/credvault/vault"
)

func editCommand() *command {
	return &command{
		name:    "edit",
		summary: "edit the decrypted JSON in $EDITOR from a private temporary file, and re-seal it if it is valid",
		example: `  EDITOR=nano credvault edit
  VISUAL="code --wait" credvault edit -vault prod.enc`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(fs, c)
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("edit takes no arguments")
				}
				return runEdit(c, vf)
			}
		},
	}
}

// runEdit decrypts the vault into a 0600 file in a private 0700 directory,
// in memory where the system has a place for it (see editBase), runs the
// editor on it, and re-seals the result if it is a JSON object and the
// vault did not change meanwhile. The directory is removed in every case,
// on SIGTERM, SIGHUP and SIGQUIT too; SIGINT is left to the editor. After a
// kill -9, the next edit removes it (see removeStaleEditDirs).
func runEdit(c *cli, vf *vaultFlags) error {
	ring, opts, err := vf.setup()
	if err != nil {
		return err
	}
	v, err := vault.Open(vf.vault, ring, opts, vf.maxAgeOption())
	if err != nil {
		return keyError{err: err, source: vf.keySource()}
	}
	original, err := v.RevealJSON()
	if err != nil {
		return err
	}
	defer clear(original)

	base := editBase(c.getenv)
	removeStaleEditDirs(base, c.stderr)
	dir, removeDir, err := makeEditDir(base)
	if err != nil {
		return err
	}
	defer removeDir()

	file := filepath.Join(dir, strings.TrimSuffix(filepath.Base(vf.vault), filepath.Ext(vf.vault))+".json")
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(original)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}

	interactive := false
	if in, ok := c.stdin.(*os.File); ok && isTerminal(in) {
		interactive = true
	}
	for {
		// A terminating signal is relayed to the editor and ends the
		// command once the editor has exited, the directory removed by the
		// defer above.
		cmd := editorCommand(c, vf, file)
		err := vault.RunCmd(cmd)
		var exit *vault.ExitError
		switch {
		case errors.As(err, &exit) && !exit.Started:
			return fmt.Errorf("cannot start the editor %s (%v): set $EDITOR; the vault is unchanged", cmd.Args[0], exit.Err)
		case errors.As(err, &exit) && exit.Caught != nil:
			return exitStatus{code: max(exit.Code, 1), msg: fmt.Sprintf("%v: the vault is unchanged and the decrypted copy is removed", exit.Caught)}
		case errors.As(err, &exit):
			return fmt.Errorf("the editor %s failed (exit status %d): the vault is unchanged", cmd.Args[0], exit.Code)
		case err != nil:
			return fmt.Errorf("the editor %s failed (%v): the vault is unchanged", cmd.Args[0], err)
		}
		edited, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		defer clear(edited)
		if bytes.Equal(edited, original) {
			fmt.Fprintf(c.stderr, "credvault: no changes; %s is unchanged\n", vf.vault)
			return nil
		}
		secrets, perr := vault.ParseJSON(edited)
		if perr != nil {
			msg := strings.TrimPrefix(perr.Error(), "vault: ")
			if interactive && askAgain(c, msg) {
				continue
			}
			return fmt.Errorf("%s: %s; the vault is unchanged, and the edited text was not kept (it holds the secrets in plaintext): run edit again", vf.vault, msg)
		}
		err = vault.Update(vf.vault, ring, func(current *vault.Tx) error {
			now, err := current.RevealJSON()
			if err != nil {
				return err
			}
			defer clear(now)
			if !bytes.Equal(now, original) {
				return errors.New("the vault was changed by another writer while you were editing: your changes are not saved; run edit again")
			}
			return current.Replace(secrets)
		}, opts, vf.maxAgeOption())
		if err != nil {
			return keyError{err: err, source: vf.keySource()}
		}
		fmt.Fprintf(c.stderr, "credvault: saved your changes to %s (sealed with key %s)\n", vf.vault, ring[0].Fingerprint())
		return nil
	}
}

// editorCommand builds the editor's command from $VISUAL or $EDITOR (which
// may hold arguments, "code --wait"), default vi. The editor gets the
// terminal and an environment without the key variables.
func editorCommand(c *cli, vf *vaultFlags, file string) *exec.Cmd {
	spec := c.getenv("VISUAL")
	if spec == "" {
		spec = c.getenv("EDITOR")
	}
	if spec == "" {
		spec = "vi"
	}
	words := strings.Fields(spec)
	args := words[1:]
	if isVim(words[0]) {
		args = append(args, vimPrivate...)
	}
	cmd := exec.Command(words[0], append(args, file)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.stdin, c.stdout, c.stderr
	cmd.Env = withoutVars(os.Environ(), vf.keyVariables())
	return cmd
}

// vimPrivate are the arguments that keep vim and neovim from writing what
// they edit anywhere but the file itself, whatever the user's vimrc says:
// no swap file (-n), no viminfo or ShaDa file (-i NONE), which would keep
// searched, yanked and deleted lines of the secrets in the home directory,
// and, once the file is loaded, no backup and no undo file, which a vimrc
// may send to a directory of its own.
var vimPrivate = []string{"-n", "-i", "NONE", "-c", "set nobackup nowritebackup noswapfile | silent! set noundofile"}

// isVim reports whether the editor command name is vim or neovim, by its
// name or by the name of the program it links to (vi is often vim.basic or
// vim.tiny).
func isVim(name string) bool {
	names := []string{filepath.Base(name)}
	if path, err := exec.LookPath(name); err == nil {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			names = append(names, filepath.Base(real))
		}
	}
	for _, n := range names {
		n = strings.TrimSuffix(strings.ToLower(n), ".exe")
		switch {
		case n == "vim", n == "nvim", n == "gvim", n == "vimx", n == "rvim", n == "view", n == "rview", n == "gview", n == "vimdiff", n == "nvim-qt",
			strings.HasPrefix(n, "vim."):
			return true
		}
	}
	return false
}

// withoutVars returns env without the variables names.
func withoutVars(env []string, names []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			out = append(out, kv)
		}
	}
	return out
}

// askAgain tells the user what is wrong with the edited text and asks
// whether to edit it again. Enter means yes; the end of input (Ctrl-D, or
// a terminal that went away) means no.
func askAgain(c *cli, problem string) bool {
	fmt.Fprintf(c.stderr, "credvault edit: %s\nEdit again? [Y/n] ", problem)
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(c.stderr)
		return false
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "" || answer == "y" || answer == "yes"
}
