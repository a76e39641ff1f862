package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

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
// vault did not change meanwhile. The directory is removed in every case:
// SIGINT, SIGTERM, SIGHUP and SIGQUIT are caught for the whole session, at
// the "Edit again?" question too, and end it with the directory removed
// (while the editor runs, they are relayed to it, but for a terminal's
// Ctrl-C, which is the editor's). After a kill -9, the next edit removes
// it (see removeStaleEditDirs). What the editor shows never reaches a log
// in clear (see editorStreams).
func runEdit(c *cli, vf *vaultFlags) error {
	ring, opts, err := vf.setup()
	if err != nil {
		return err
	}
	v, err := vault.Open(vf.vault, ring, opts, vf.maxAgeOption())
	if err != nil {
		return keyError{err: err, source: vf.keySource()}
	}
	spec := editorSpec(c)
	streams, err := editorStreams(c, v)
	if err != nil {
		return err
	}
	defer streams.close()
	if !streams.terminal {
		if err := needsTerminal(spec); err != nil {
			return err
		}
	}
	original, err := v.RevealJSON()
	if err != nil {
		return err
	}
	defer clear(original)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(stop)

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
		if sig := caught(stop, false); sig != nil {
			return editStopped(sig)
		}
		// A terminating signal is relayed to the editor and ends the
		// command once the editor has exited, the directory removed by the
		// defer above.
		cmd := editorCommand(c, vf, spec, file, streams)
		err := vault.RunCmd(cmd)
		streams.flush()
		var exit *vault.ExitError
		switch {
		case errors.As(err, &exit) && !exit.Started:
			return fmt.Errorf("cannot start the editor %s (%v): set $EDITOR; the vault is unchanged", cmd.Args[0], exit.Err)
		case errors.As(err, &exit) && exit.Caught != nil:
			return exitStatus{code: max(exit.Code, 1), msg: fmt.Sprintf("%v: the vault is unchanged and the decrypted copy is removed", exit.Caught)}
		}
		// A terminal's Ctrl-C while the editor ran was the editor's to
		// handle; any other signal ends the session.
		if sig := caught(stop, streams.terminal); sig != nil {
			return editStopped(sig)
		}
		switch {
		case errors.As(err, &exit):
			return fmt.Errorf("the editor %s failed (exit status %d): the vault is unchanged", cmd.Args[0], exit.Code)
		case err != nil:
			return fmt.Errorf("the editor %s failed (%v): the vault is unchanged", cmd.Args[0], err)
		}
		edited, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("the editor %s removed the copy it was given instead of saving it: %s is unchanged", cmd.Args[0], vf.vault)
		}
		if err != nil {
			return fmt.Errorf("cannot read the edited copy (%v): %s is unchanged", errors.Unwrap(err), vf.vault)
		}
		defer clear(edited)
		if bytes.Equal(edited, original) {
			fmt.Fprintf(c.stderr, "credvault: no changes; %s is unchanged\n", vf.vault)
			return nil
		}
		secrets, perr := vault.ParseJSON(edited)
		if perr != nil {
			msg := strings.TrimPrefix(perr.Error(), "vault: ")
			if interactive {
				again, sig := askAgain(c, msg, stop)
				if sig != nil {
					return editStopped(sig)
				}
				if again {
					continue
				}
			}
			return fmt.Errorf("%s: %s; the vault is unchanged, and the edited text was not kept (it holds the secrets in plaintext): run edit again", vf.vault, msg)
		}
		if sig := caught(stop, false); sig != nil {
			return editStopped(sig)
		}
		sealed, err := vf.update(ring, func(current *vault.Tx) error {
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
			return err
		}
		fmt.Fprintf(c.stderr, "credvault: saved your changes to %s (sealed with key %s)\n", vf.vault, sealed.Fingerprint())
		return nil
	}
}

// caught returns a signal caught on stop and not yet handled, or nil,
// without waiting; with skipInterrupt, a SIGINT is dropped.
func caught(stop <-chan os.Signal, skipInterrupt bool) os.Signal {
	for {
		select {
		case sig := <-stop:
			if sig == os.Interrupt && skipInterrupt {
				continue
			}
			return sig
		default:
			return nil
		}
	}
}

// editStopped ends the edit session after sig, with the status a shell
// gives a command that signal ended.
func editStopped(sig os.Signal) error {
	code := 1
	if n, ok := sig.(syscall.Signal); ok {
		code = 128 + int(n)
	}
	return exitStatus{code: code, msg: fmt.Sprintf("%v: the vault is unchanged and the decrypted copy is removed", sig)}
}

// editorSpec returns the editor command the user set, $VISUAL or $EDITOR
// (which may hold arguments, "code --wait"), or "" for the default, vi.
func editorSpec(c *cli) string {
	if spec := strings.TrimSpace(c.getenv("VISUAL")); spec != "" {
		return spec
	}
	return strings.TrimSpace(c.getenv("EDITOR"))
}

// needsTerminal refuses, when there is no terminal, the editor spec names
// if it is vi, the default, or vim or neovim given no arguments: without a
// terminal, vi draws the whole file into the log that takes its output
// (masked here, still no use), then waits for keys that never come, or
// reads them from its stderr. Given arguments (vim -es), vim may be
// scripted, as any other editor.
func needsTerminal(spec string) error {
	name := "vi, the default editor"
	if spec != "" {
		words := strings.Fields(spec)
		if len(words) > 1 || !isVim(words[0]) {
			return nil
		}
		name = words[0]
	}
	return fmt.Errorf("there is no terminal for %s: run edit at a terminal, or set $EDITOR to a program that edits the file it is given without one; the vault is unchanged", name)
}

// editorCommand builds the editor's command from spec, "" for vi. The
// editor gets the streams chosen by editorStreams and an environment
// without the key variables.
func editorCommand(c *cli, vf *vaultFlags, spec, file string, streams *editStreams) *exec.Cmd {
	if spec == "" {
		spec = "vi"
	}
	words := strings.Fields(spec)
	args := words[1:]
	if isVim(words[0]) {
		args = append(args, vimPrivate...)
	}
	cmd := exec.Command(words[0], append(args, file)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = streams.stdin, streams.stdout, streams.stderr
	cmd.Env = withoutVars(os.Environ(), vf.keyVariables())
	return cmd
}

// editStreams are the editor's stdin, stdout and stderr.
type editStreams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// terminal says that a person can work the editor: its stdin is a
	// terminal, credvault's own or the controlling terminal.
	terminal  bool
	tty       *os.File          // the controlling terminal, opened for the editor
	redactors []*vault.Redactor // flushed after each run
}

// editorStreams chooses the editor's streams so that what it shows of the
// file (a full-screen editor draws it all) reaches a person and never a
// log in clear: a stream of credvault's that is a terminal is the
// editor's; one that is not is replaced by the controlling terminal
// (/dev/tty), when this process has one, as in "credvault edit > log" at a
// terminal; without one (a CI job, a cron job), the editor's output passes
// through the vault's redactor, so that a script given as $EDITOR can
// still say what went wrong.
func editorStreams(c *cli, v *vault.Vault) (*editStreams, error) {
	s := &editStreams{stdin: c.stdin, stdout: c.stdout, stderr: c.stderr}
	inTerminal := isTerminalReader(c.stdin)
	outTerminal, errTerminal := isTerminalWriter(c.stdout), isTerminalWriter(c.stderr)
	if !inTerminal || !outTerminal || !errTerminal {
		if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
			s.tty = tty
		}
	}
	s.terminal = inTerminal || s.tty != nil
	if s.tty != nil {
		if !inTerminal {
			s.stdin = s.tty
		}
		if !outTerminal {
			s.stdout = s.tty
		}
		if !errTerminal {
			s.stderr = s.tty
		}
		return s, nil
	}
	if outTerminal && errTerminal {
		return s, nil
	}
	m, err := v.Masker(context.Background())
	if err != nil {
		return nil, err
	}
	redact := func(w io.Writer) io.Writer {
		r := m.Redactor(w)
		s.redactors = append(s.redactors, r)
		return r
	}
	switch {
	case !outTerminal && !errTerminal && sameFile(c.stdout, c.stderr):
		// One log for both: one redactor, so that no secret is split
		// between two.
		r := redact(c.stdout)
		s.stdout, s.stderr = r, r
	default:
		if !outTerminal {
			s.stdout = redact(c.stdout)
		}
		if !errTerminal {
			s.stderr = redact(c.stderr)
		}
	}
	return s, nil
}

// flush writes what the redactors hold back: the editor has exited.
func (s *editStreams) flush() {
	for _, r := range s.redactors {
		r.Flush()
	}
}

func (s *editStreams) close() {
	for _, r := range s.redactors {
		r.Close()
	}
	if s.tty != nil {
		s.tty.Close()
	}
}

// sameFile reports whether w1 and w2 are one open file (stdout and stderr
// sent to one log, 2>&1).
func sameFile(w1, w2 io.Writer) bool {
	f1, ok1 := w1.(*os.File)
	f2, ok2 := w2.(*os.File)
	if !ok1 || !ok2 {
		return w1 == w2
	}
	i1, err1 := f1.Stat()
	i2, err2 := f2.Stat()
	return err1 == nil && err2 == nil && os.SameFile(i1, i2)
}

// isTerminalReader reports whether r is a terminal.
func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && isTerminal(f)
}

// vimPrivate are the arguments that keep vim and neovim from writing what
// they edit anywhere but the file itself: no swap file (-n), no viminfo or
// ShaDa file (-i NONE), which would keep searched, yanked and deleted lines
// of the secrets in the home directory, no backup and no undo file. A
// vimrc may undo any of that (set viminfofile=~/.viminfo overrides -i
// NONE; undodir, backupdir), so the same settings are made again by
// commands run before it (--cmd) and after it (-c, once the file is
// loaded: "set noswapfile" then deletes a swap file the vimrc asked for).
// Each is silent!, for the options a vim or a neovim lacks.
var vimPrivate = []string{"-n", "-i", "NONE", "--cmd", vimSettings, "-c", vimSettings}

const vimSettings = "silent! set viminfo= | silent! set viminfofile=NONE | silent! set shada= | silent! set shadafile=NONE" +
	" | silent! set nobackup | silent! set nowritebackup | silent! set noswapfile | silent! set noundofile"

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
// a terminal that went away) means no. A signal caught on stop while it
// waits for the answer ends the wait: it is returned, and the session
// ends.
func askAgain(c *cli, problem string, stop <-chan os.Signal) (again bool, sig os.Signal) {
	fmt.Fprintf(c.stderr, "credvault edit: %s\nEdit again? [Y/n] ", problem)
	type reply struct {
		line string
		err  error
	}
	replies := make(chan reply, 1)
	go func() {
		line, err := bufio.NewReader(c.stdin).ReadString('\n')
		replies <- reply{line, err}
	}()
	var r reply
	select {
	case sig := <-stop:
		fmt.Fprintln(c.stderr)
		return false, sig
	case r = <-replies:
	}
	if r.err != nil && r.line == "" {
		fmt.Fprintln(c.stderr)
		return false, nil
	}
	answer := strings.ToLower(strings.TrimSpace(r.line))
	return answer == "" || answer == "y" || answer == "yes", nil
}
