package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"

	"github.com/credvault/vault"
)

func execCommand() *command {
	return &command{
		name:    "exec",
		args:    "-- CMD [ARGS...]",
		summary: "run CMD with the secrets in its environment only, without the key, its output masked",
		example: `  credvault exec -prefix APP_ -- ./deploy.sh production
  credvault exec -path database -prefix PG -- psql    # PGHOST, PGPASSWORD, ...`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			vf := addVaultFlags(fs, c)
			ff := addFlattenFlags(fs)
			noMask := fs.Bool("no-mask", false, "pass the command's output through untouched (for full-screen programs); secrets it prints are shown")
			return func(args []string) error {
				if len(args) == 0 {
					return usagef("exec needs a command to run: credvault exec [flags] -- CMD [ARGS...]")
				}
				v, err := vf.open()
				if err != nil {
					return err
				}
				var remove []string
				if vf.keyFile == "" {
					remove = append(remove, vf.keyEnv)
				}
				env, masker, err := v.ExecEnv(vault.ExecSpec{
					Args: args, Base: c.environ(), Remove: remove,
					Prefix: ff.prefix, Flatten: ff.options(),
				})
				if err != nil {
					return err
				}
				return runChild(c, args, env, masker, *noMask)
			}
		},
	}
}

// runChild runs args with env, its stdin the command's and its output
// through Redactors (unless noMask), relaying signals, and ends with the
// child's exit status: 128+N if signal N killed it, 127 if the command was
// not found, 126 if it could not be run.
func runChild(c *cli, args, env []string, masker *vault.Masker, noMask bool) error {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	cmd.Stdin = c.stdin
	stdout, stderr := c.stdout, c.stderr
	if noMask {
		fmt.Fprintf(c.stderr, "credvault exec: -no-mask: the output of %s is not redacted\n", args[0])
	} else {
		rOut, rErr := masker.Redactor(c.stdout), masker.Redactor(c.stderr)
		defer rOut.Close()
		defer rErr.Close()
		stdout, stderr = rOut, rErr
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr

	// With a terminal on stdin, Ctrl-C reaches the child directly.
	interactive := false
	if f, ok := c.stdin.(*os.File); ok && isTerminal(f) {
		interactive = true
	}
	signals := forwardSignals(!interactive)
	defer signals.stop()
	if err := cmd.Start(); err != nil {
		switch {
		case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
			return exitStatus{code: 127, msg: fmt.Sprintf("%s: command not found: check its name and $PATH", args[0])}
		default:
			return exitStatus{code: 126, msg: fmt.Sprintf("%s: cannot run it: %v", args[0], unwrapExec(err))}
		}
	}
	signals.setChild(cmd.Process)
	err := cmd.Wait()
	signals.setChild(nil)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return exitStatus{code: ee.ExitCode()}
	case errors.As(err, &ee):
		if sig := exitSignal(ee); sig != nil {
			return exitStatus{code: signalStatus(sig)}
		}
	}
	return fmt.Errorf("%s: %w", args[0], err)
}

func unwrapExec(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
