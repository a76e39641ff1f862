package custody

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/credvault/vault"
)

// runKeyCommand runs command with "sh -c" and parses its standard output as
// a keyring. The command's standard error goes to stderr; its standard
// input is empty (interactive tools such as op and gcloud reach the
// terminal themselves); its environment is env. It is stopped, with its
// whole process group where the system has them, after timeout.
//
// Errors say how the command ended (its exit status, a signal, the time
// limit) and what was wrong with its output, never the output itself.
func runKeyCommand(ctx context.Context, command string, env []string, stderr io.Writer, timeout time.Duration) ([]*vault.Key, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, "sh", "-c", command)
	cmd.Env = env
	if stderr == nil {
		stderr = io.Discard
	}
	// Allocated whole, so that no copy of the key is left behind by growing.
	out := &limitedBuffer{buf: make([]byte, 0, vault.MaxKeyringSize), max: vault.MaxKeyringSize}
	defer out.clear()
	cmd.Stdout, cmd.Stderr = out, stderr
	stopGroup(cmd)
	// A child that keeps the output pipes open after the shell exits, or
	// ignores the kill, is not waited for past this.
	cmd.WaitDelay = time.Second

	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("was stopped: %w", context.Cause(ctx))
	case cctx.Err() == context.DeadlineExceeded:
		return nil, fmt.Errorf("did not finish within %s and was stopped: %w", timeout, context.DeadlineExceeded)
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return nil, fmt.Errorf("exited with status %d (its messages, if any, are above)", ee.ExitCode())
	case errors.As(err, &ee):
		return nil, fmt.Errorf("was killed: %v", ee.ProcessState)
	case errors.Is(err, exec.ErrWaitDelay):
		// The shell exited 0 and its output is complete; a background
		// child still holds the pipes. Accept the output.
	case err != nil:
		return nil, fmt.Errorf("could not be run: %v", err)
	}
	if out.overflow {
		return nil, fmt.Errorf("printed more than %d KiB, more than any keyring: does it print the key alone?", vault.MaxKeyringSize>>10)
	}
	if len(bytes.TrimSpace(out.buf)) == 0 {
		return nil, errors.New("succeeded but printed nothing on its standard output: it should print the keyring")
	}
	keys, err := vault.ParseKeyring(string(out.buf))
	if err != nil {
		return nil, fmt.Errorf("printed something that is not a keyring: %s", strings.TrimPrefix(err.Error(), "vault: "))
	}
	return keys, nil
}

// limitedBuffer keeps up to max bytes and notes whether more came.
type limitedBuffer struct {
	buf      []byte
	max      int
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(b.buf)+n > b.max {
		b.overflow = true
		p = p[:max(0, b.max-len(b.buf))]
	}
	b.buf = append(b.buf, p...)
	return n, nil
}

func (b *limitedBuffer) clear() { clear(b.buf[:cap(b.buf)]) }
