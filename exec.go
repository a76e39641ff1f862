package vault

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// A Command is a program for [Vault.Run] to run with a vault's secrets in
// its environment: the fields of an exec.Cmd that matter here, and how to
// choose the secrets and mask the output.
type Command struct {
	// Args is the command line: Args[0] is the program, looked up in PATH
	// as exec.Command looks it up when it has no slash. Only the program's
	// base name is audited, never the arguments.
	Args []string

	// Dir is the command's working directory; "" is the caller's.
	Dir string

	// Env is the environment to start from, usually os.Environ(): the
	// package never reads the process environment itself, so nil gives the
	// command only the vault's variables. Variables the vault sets replace
	// those of Env.
	Env []string

	// Strip names variables of Env to leave out: every variable that may
	// hold key material (MASTER_KEY, an age identity), whichever of them
	// gave this vault its key. The command has no business with the key.
	// Whatever Strip says, a variable of Env whose value holds a key of
	// the keyring the vault was opened with, in any form ParseKey reads
	// (URL-safe or standard base64, padded or not, hex), or one of the
	// Conceal secrets, is left out too.
	Strip []string

	// Conceal lists secrets of the caller's own that the command must
	// neither get nor print, such as the age identities that unwrapped the
	// vault's key: a variable of Env whose value holds one is left out, and
	// the output masks them as it masks the vault's values.
	Conceal []string

	// Prefix and Flatten choose the variables, as for [Vault.Flatten].
	Prefix  string
	Flatten []FlattenOption

	// Stdin, Stdout and Stderr are the command's, as in exec.Cmd: nil is
	// the null device.
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	// Unmasked passes the command's output through untouched, for
	// full-screen programs that a Redactor would disturb. By default each
	// of Stdout and Stderr goes through its own [Redactor], which masks the
	// values given to the command, the keys of the keyring (in the forms
	// Strip names) and the Conceal secrets, and
	// is flushed when the command ends; when Stdout and Stderr are the same
	// writer (==), one Redactor serves both, and the command's writes to
	// either reach it in order, as exec.Cmd gives them one pipe.
	Unmasked bool

	// RelaySignals makes Run behave as a wrapper such as `credvault exec`
	// must: while the command runs, this process catches SIGTERM, SIGHUP
	// and SIGQUIT, relays them to the command and does not die of them, so
	// that the command can end as it chooses and its output is flushed.
	// SIGINT is caught too, and relayed only when Stdin is not a terminal:
	// a terminal's Ctrl-C reaches the whole foreground process group, the
	// command included, already. A signal caught before the command has
	// started is relayed as soon as it has. On systems without these
	// signals (Windows) nothing is caught. Leave it unset in a program that
	// handles signals itself, such as a server.
	RelaySignals bool

	// WaitDelay is how long Run waits, once ctx is done and the command has
	// been sent SIGTERM (killed, on Windows), before it kills the command
	// and stops copying its output; zero means 10 seconds. It also bounds
	// the wait for output after the command has exited, from processes it
	// left running that still hold its stdout or stderr.
	//
	// On Unix, when Stdin is not a terminal, the command runs in a process
	// group of its own, and SIGTERM, the kill and relayed signals go to the
	// whole group: the processes it started (sh -c 'server & worker') end
	// with it instead of living on with the secrets. Run returns once they
	// are gone, or killed WaitDelay after the SIGTERM. A process that
	// leaves the group on purpose (setsid, a daemon) is not followed. When
	// Stdin is a terminal, the command stays in this process's group, the
	// terminal's foreground group, so that it can read the terminal and
	// Ctrl-C and Ctrl-Z reach it as part of the job: then the end of ctx
	// signals the command alone. A command without a terminal on stdin
	// that opens /dev/tty (a password prompt) is stopped by the terminal
	// (SIGTTIN) when this process has one: give it the terminal as Stdin.
	WaitDelay time.Duration
}

// defaultWaitDelay is the WaitDelay of a Command that sets none.
const defaultWaitDelay = 10 * time.Second

// An ExitError reports how a command run by [Vault.Run] or [RunCmd] ended
// when it did not succeed, as the status a shell would give it: the command's
// own exit status, 128+N if signal N ended it, 127 if the program was not
// found, 126 if it could not be run.
type ExitError struct {
	// Command is the program, Args[0].
	Command string
	// Code is the exit status a shell would report, for a wrapper to exit
	// with. It is 0 for a command that the end of the context stopped and
	// that exited cleanly on SIGTERM: it did not finish its work all the
	// same (errors.Is(err, context.DeadlineExceeded) tells a timeout).
	Code int
	// Signal is the signal that ended the command, or nil.
	Signal os.Signal
	// Caught is the last signal this process caught and relayed to the
	// command (see Command.RelaySignals), or nil. It may be set although
	// the command exited with status 0, after handling the signal: a
	// wrapper that must stop after a signal checks Caught.
	Caught os.Signal
	// Started is false when the program could not be started (Code 126 or
	// 127): nothing ran.
	Started bool
	// Err is the cause: an *exec.ExitError, exec.ErrNotFound, an error of
	// the system, joined with ctx's error if the end of the context stopped
	// the command (errors.Is(err, context.DeadlineExceeded) tells a timeout).
	Err error

	stopped error // the context's error, if its end stopped the command
}

// Error says how the command ended, naming the program, never its
// arguments or environment.
func (e *ExitError) Error() string {
	switch {
	case e.Code == 127 && !e.Started:
		return fmt.Sprintf("vault: %s: command not found: check its name and $PATH", e.Command)
	case !e.Started:
		return fmt.Sprintf("vault: %s: cannot run it: %v", e.Command, e.Err)
	case e.stopped != nil && e.Signal != nil:
		return fmt.Sprintf("vault: %s was stopped because %v: ended by signal %v (status %d)", e.Command, e.stopped, e.Signal, e.Code)
	case e.stopped != nil:
		return fmt.Sprintf("vault: %s was stopped because %v: it exited with status %d", e.Command, e.stopped, e.Code)
	case e.Signal != nil:
		return fmt.Sprintf("vault: %s was ended by signal %v (status %d)", e.Command, e.Signal, e.Code)
	case e.Code == 0 && e.Caught != nil:
		return fmt.Sprintf("vault: %s exited after this process caught signal %v", e.Command, e.Caught)
	}
	return fmt.Sprintf("vault: %s exited with status %d", e.Command, e.Code)
}

// Unwrap returns the cause.
func (e *ExitError) Unwrap() error { return e.Err }

// Run runs a command with the vault's secrets in its environment and its
// output masked, and waits for it:
//
//   - its environment is c.Env without the c.Strip variables, without any
//     variable that holds a key of the keyring or a c.Conceal secret, and
//     without the variables the vault sets, then the vault's variables
//     ([Vault.Flatten] with c.Prefix and c.Flatten), sorted;
//   - Stdout and Stderr each go through a Redactor of their own, closed
//     (flushed) when the command ends, unless c.Unmasked;
//   - when ctx is done, the command is sent SIGTERM, and killed WaitDelay
//     later if it is still running (exec.CommandContext with Cmd.Cancel and
//     Cmd.WaitDelay); on Unix, with the processes it started, unless Stdin
//     is a terminal (see Command.WaitDelay);
//   - signals are relayed if c.RelaySignals says so.
//
// Run refuses, before anything starts, an environment the kernel would
// refuse at exec (one NAME=value over [MaxEnvString] is already a Flatten
// error; here the whole of arguments and environment, over a quarter of the
// stack limit, 2 MiB by default on Linux), naming the largest variables.
//
// It is audited as OpExec, with the variable names, a fingerprint of the
// values and the program's base name, before the command starts; if the
// audit fails, nothing runs.
//
// Run returns nil if the command exited with status 0, an *ExitError if it
// could not start or did not succeed (see [ExitError] for the statuses), and
// another error if it never came to starting (a Flatten or audit error, a
// Dir that does not exist, ctx done before the start) or if its output
// could not be written. A command that the end of ctx stopped did not
// succeed, whatever its status: its *ExitError may have Code 0, when it
// exited cleanly on SIGTERM, and errors.Is(err, ctx.Err()) reports why.
func (v *Vault) Run(ctx context.Context, c *Command) error {
	if err := v.readyWith(ctx); err != nil {
		return err
	}
	if c == nil || len(c.Args) == 0 || c.Args[0] == "" {
		return fmt.Errorf("vault: %s: Run needs a command: set Command.Args", v.name)
	}
	env, masker, err := v.commandEnv(ctx, c)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdin = env, c.Dir, c.Stdin
	cmd.WaitDelay = c.WaitDelay
	if cmd.WaitDelay <= 0 {
		cmd.WaitDelay = defaultWaitDelay
	}
	// A command whose stdin is not a terminal gets a process group of its
	// own, so that the end of ctx reaches the processes it started too.
	// One reading a terminal stays in this process's group, the
	// terminal's foreground group, as a shell's foreground job does: a
	// process group of its own could not read the terminal (SIGTTIN), and
	// Ctrl-C and Ctrl-Z would no longer reach it with this process.
	group := !isTerminal(c.Stdin) && setOwnGroup(cmd)
	var stopped error
	var killAt time.Time // when what remains of the group is killed
	cmd.Cancel = func() error {
		err := signalChild(cmd.Process, group, terminateSignal)
		if err == nil {
			stopped, killAt = ctx.Err(), time.Now().Add(cmd.WaitDelay)
		}
		return err
	}
	cmd.Stdout, cmd.Stderr = c.Stdout, c.Stderr
	var redactors []*Redactor
	if !c.Unmasked {
		cmd.Stdout, cmd.Stderr, redactors = redactOutput(masker, c.Stdout, c.Stderr)
	}
	err = runCmd(cmd, c.RelaySignals, group, func() error { return stopped })
	if group && stopped != nil {
		endGroup(cmd.Process.Pid, killAt)
	}
	for _, r := range redactors {
		if cerr := r.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("vault: %s: writing its output: %w", c.Args[0], cerr)
		}
	}
	return err
}

// redactOutput returns the writers for a child's stdout and stderr, each
// through a Redactor of masker, and the Redactors to close when it ends.
// When stdout and stderr are the same writer, one Redactor serves both, as
// exec.Cmd then gives the child one pipe for both: two Redactors would
// write to the writer at once.
func redactOutput(masker *Masker, stdout, stderr io.Writer) (out, errOut io.Writer, redactors []*Redactor) {
	if stdout != nil {
		r := masker.Redactor(stdout)
		redactors, out = append(redactors, r), r
	}
	if stderr != nil && sameWriter(stdout, stderr) {
		return out, out, redactors
	}
	if stderr != nil {
		r := masker.Redactor(stderr)
		redactors, errOut = append(redactors, r), r
	}
	return out, errOut, redactors
}

// sameWriter reports whether a and b are the same writer, as exec.Cmd
// compares Stdout and Stderr: false if their type cannot be compared.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// RunCmd runs cmd, made by the caller with exec.Command or
// exec.CommandContext, the way [Vault.Run] runs its command, for a child
// that gets no secrets, such as an editor: it catches and relays signals
// as Command.RelaySignals describes (SIGINT only when cmd.Stdin is not a
// terminal) and reports an unsuccessful end as an *ExitError. It returns
// an *ExitError, with Caught set, also when the command exited with status 0
// after a relayed signal, so that the caller can stop as it was asked to.
//
// If cmd was made by exec.CommandContext, its Cancel and WaitDelay are the
// caller's to set; the default Cancel kills it.
func RunCmd(cmd *exec.Cmd) error {
	if cmd == nil {
		return errors.New("vault: RunCmd needs a command: make it with exec.Command")
	}
	return runCmd(cmd, true, false, func() error { return nil })
}

// runCmd runs cmd, relaying signals if relay is set, to cmd's process
// group if group is set (cmd starts in a group of its own). stopped returns
// the context's error once Cancel has stopped cmd, or nil; it is read after
// Wait, when Cancel can no longer run.
func runCmd(cmd *exec.Cmd, relay, group bool, stopped func() error) error {
	name := cmd.Path
	if len(cmd.Args) > 0 {
		name = cmd.Args[0]
	}
	if err := checkDir(name, cmd.Dir); err != nil {
		return err
	}
	var r *relayer
	if relay {
		r = startRelay(!isTerminal(cmd.Stdin))
		defer r.stop()
	}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("vault: %s: not started: %w", name, err)
		}
		code := 126
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			code = 127
		}
		return &ExitError{Command: name, Code: code, Err: unwrapStart(err)}
	}
	r.setChild(cmd.Process, group)
	err := cmd.Wait()
	r.setChild(nil, false)
	caught := r.caught()
	state := cmd.ProcessState
	if state != nil && state.Success() && caught == nil && (err == nil || errors.Is(err, exec.ErrWaitDelay)) {
		// Output cut off WaitDelay after a successful exit came from
		// processes the command left running: the command succeeded.
		return nil
	}
	if state == nil {
		return fmt.Errorf("vault: %s: %w", name, err)
	}
	if state.Success() && caught == nil && stopped() == nil {
		// The command succeeded, but what it wrote could not be copied to
		// Stdout or Stderr: not an exit status, which would read as success.
		return fmt.Errorf("vault: %s: writing its output: %w", name, err)
	}
	e := &ExitError{Command: name, Code: state.ExitCode(), Caught: caught, Started: true, Err: err, stopped: stopped()}
	if sig := exitSignal(state); sig != nil {
		e.Signal, e.Code = sig, signalStatus(sig)
	}
	if e.stopped != nil && !errors.Is(err, e.stopped) {
		e.Err = errors.Join(err, e.stopped)
	}
	return e
}

// checkDir refuses a working directory that does not exist or is not a
// directory, which exec would report as the program's failure to start
// ("not found", status 127) or not at all clearly.
func checkDir(name, dir string) error {
	if dir == "" {
		return nil
	}
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &vaultError{msg: fmt.Sprintf("vault: %s: cannot run it in %s: the directory does not exist", name, dir), err: unwrapPath(err)}
	case err != nil:
		return &vaultError{msg: fmt.Sprintf("vault: %s: cannot run it in %s: %v", name, dir, unwrapPath(err)), err: unwrapPath(err)}
	case !info.IsDir():
		return fmt.Errorf("vault: %s: cannot run it in %s: it is not a directory", name, dir)
	}
	return nil
}

// isTerminal reports whether r is a terminal, as golang.org/x/term says:
// a character device such as /dev/null is not one.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// unwrapStart returns the cause of a failed start without the path, which
// Error names already.
func unwrapStart(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	return unwrapPath(err)
}

// A relayer catches terminating signals while a child runs, relays them to
// it, and remembers the last one. A nil *relayer does nothing.
type relayer struct {
	interrupt bool // relay SIGINT too
	signals   chan os.Signal
	done      chan struct{}

	mu       sync.Mutex
	child    *os.Process
	group    bool // signal child's process group
	received os.Signal
}

func startRelay(interrupt bool) *relayer {
	sigs := relayedSignals()
	if len(sigs) == 0 {
		return nil
	}
	r := &relayer{interrupt: interrupt, signals: make(chan os.Signal, 4), done: make(chan struct{})}
	signal.Notify(r.signals, sigs...)
	go func() {
		for {
			select {
			case <-r.done:
				return
			case sig := <-r.signals:
				if sig == os.Interrupt && !r.interrupt {
					continue
				}
				r.mu.Lock()
				r.received = sig
				if r.child != nil {
					signalChild(r.child, r.group, sig)
				}
				r.mu.Unlock()
			}
		}
	}()
	return r
}

// setChild makes p, or its process group if group, what signals are
// relayed to, or nothing if p is nil; a signal caught before p started is
// relayed at once.
func (r *relayer) setChild(p *os.Process, group bool) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.child, r.group = p, group
	if p != nil && r.received != nil {
		signalChild(p, group, r.received)
	}
}

// caught returns the last signal caught, or nil.
func (r *relayer) caught() os.Signal {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.received
}

func (r *relayer) stop() {
	if r == nil {
		return
	}
	signal.Stop(r.signals)
	close(r.done)
}

// Masker returns a Masker of the vault's secrets, as [Vault.Run] masks a
// command's output: every value the masking rule applies to ([IsMaskable]),
// at any depth (or below the [FromPath] path), except those declared
// [NotSecret], and every key of the keyring the vault was opened with, in
// each form [ParseKey] reads (URL-safe and standard base64, padded or not,
// hex in lower or upper case). It is for output a program produces itself:
// its own logs, the output of a process it runs some other way.
//
// It is audited as OpMask (a Masker holds the values, though it only
// tells whether a text contains one). Like Run, it takes a context and has
// no form without one: operations added since the Context forms take ctx
// first, as STYLE's database/sql anchor has new calls do, rather than
// doubling the API.
func (v *Vault) Masker(ctx context.Context, opts ...FlattenOption) (*Masker, error) {
	if err := v.readyWith(ctx); err != nil {
		return nil, err
	}
	values, err := v.maskable(opts)
	if err := withAudit(err, v.opts.audit(ctx, v.event(OpMask, err))); err != nil {
		return nil, err
	}
	return newMasker(append(values, keyForms(v.keyring)...)), nil
}

// maskable returns the values that a Masker of the vault masks.
func (v *Vault) maskable(opts []FlattenOption) ([]string, error) {
	var o flattenOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	root := *v.doc()
	if o.subtree != "" {
		segs, err := parsePath(o.subtree)
		if err != nil {
			return nil, fmt.Errorf("vault: %s: %w", v.name, err)
		}
		if root, err = lookup(v.name, o.subtree, root, segs); err != nil {
			return nil, err
		}
	}
	public, err := notSecret(v.name, *v.doc(), opts)
	if err != nil {
		return nil, err
	}
	var values []string
	var walk func(n node)
	walk = func(n node) {
		switch n.kind() {
		case kindObject:
			for _, m := range n.members() {
				walk(m.val)
			}
		case kindArray:
			for _, x := range n.elems() {
				walk(x)
			}
		default:
			if s, _ := scalarText(n); IsMaskable(s) && !public[s] {
				values = append(values, s)
			}
		}
	}
	walk(root)
	return values, nil
}

// commandEnv returns the environment for c's command and a Masker of the
// values (those the masking rule, [IsMaskable], applies to and not declared
// [NotSecret]) and of the key that opened the vault, after checking its size
// and auditing it as OpExec.
func (v *Vault) commandEnv(ctx context.Context, c *Command) ([]string, *Masker, error) {
	// Variables larger than the system takes are refused before they are
	// made: the measure flatten takes first names the largest.
	vars, names, err := flatten(v.name, *v.doc(), c.Prefix, c.Flatten, true, execArgLimit())
	if tooLarge := (*environTooLarge)(nil); errors.As(err, &tooLarge) {
		err = execTooLarge(v.name, "the vault's", tooLarge.size.vars, tooLarge.size.bytes, tooLarge.size.largestText())
	}
	var public map[string]bool
	if err == nil {
		public, err = notSecret(v.name, *v.doc(), c.Flatten)
	}
	var env []string
	if err == nil {
		env = childEnv(c.Env, c.Strip, v.keyring, c.Conceal, vars, names)
		err = checkExecSize(v.name, c.Args, env)
	}
	event := v.event(OpExec, err)
	event.Command = filepath.Base(c.Args[0])
	if err == nil {
		event.Names = names
		if v.fingerprint != nil {
			event.ValueFingerprint = v.fingerprint.vars(vars, event.Names)
		}
	}
	if err := withAudit(err, v.opts.audit(ctx, event)); err != nil {
		return nil, nil, err
	}
	// The Masker gathers its values when it compiles, which a command that
	// prints nothing never makes it do: from the environment, which lives
	// as long as the command, and not from vars, which can go now.
	vaultEnv, keys, conceal := env[len(env)-len(vars):], keyForms(v.keyring), c.Conceal
	return env, lazyMasker(func() []string {
		values := make([]string, 0, len(vaultEnv)+len(keys)+len(conceal))
		for _, kv := range vaultEnv {
			if _, value, _ := strings.Cut(kv, "="); IsMaskable(value) && !public[value] {
				values = append(values, value)
			}
		}
		return append(append(values, keys...), conceal...)
	}), nil
}

// childEnv returns base without the strip variables, the variables vars
// sets and any variable holding a key of keyring or one of the conceal
// secrets, then vars in the order of names.
func childEnv(base, strip []string, keyring []*Key, conceal []string, vars map[string]string, names []string) []string {
	forms := append(keyForms(keyring), conceal...)
	env := make([]string, 0, len(base)+len(vars))
	for _, kv := range base {
		name, value, _ := strings.Cut(kv, "=")
		if _, set := vars[name]; set || slices.Contains(strip, name) || holdsAny(value, forms) {
			continue
		}
		env = append(env, kv)
	}
	return appendEnviron(env, vars, names)
}

// keyForms returns the forms of the keys that ParseKey reads: URL-safe and
// standard base64, with and without padding, and hex in lower and upper
// case. (A text holding a padded form holds the unpadded one too, which is
// enough to find it; the padded one lets a Masker mask the padding with it.)
func keyForms(keys []*Key) []string {
	var forms []string
	for _, key := range keys {
		raw := key.fernetKey()[:]
		h := hex.EncodeToString(raw)
		for _, f := range []string{
			base64.URLEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw),
			base64.StdEncoding.EncodeToString(raw), base64.RawStdEncoding.EncodeToString(raw),
			h, strings.ToUpper(h),
		} {
			if !slices.Contains(forms, f) {
				forms = append(forms, f)
			}
		}
	}
	return forms
}

// holdsAny reports whether s holds one of subs; hex is matched in any
// case, as ParseKey reads it.
func holdsAny(s string, subs []string) bool {
	lower := strings.ToLower(s)
	for _, sub := range subs {
		if sub != "" && (strings.Contains(s, sub) || strings.Contains(lower, sub)) {
			return true
		}
	}
	return false
}

// checkExecSize refuses an argument list and environment larger than the
// kernel takes: strings with their NULs and a pointer each.
func checkExecSize(name string, args, env []string) error {
	size := 8 * (len(args) + len(env) + 2)
	for _, s := range args {
		size += len(s) + 1
	}
	for _, s := range env {
		size += len(s) + 1
	}
	if size <= execArgLimit() {
		return nil
	}
	// The largest NAME=value strings, the caller's among them, a long
	// name cut short: the error must stay readable.
	env = slices.Clone(env)
	slices.SortStableFunc(env, func(a, b string) int { return len(b) - len(a) })
	var largest []string
	for _, kv := range env[:min(3, len(env))] {
		n, _, _ := strings.Cut(kv, "=")
		largest = append(largest, describeVar(n, len(n), len(kv)+1))
	}
	return execTooLarge(name, "the environment's", len(env), size, strings.Join(largest, ", "))
}

// execTooLarge is the error for whose variables, vars of size bytes in all,
// more than the system passes to a program, the largest of them listed.
func execTooLarge(name, whose string, vars, size int, largest string) error {
	return fmt.Errorf("vault: %s: %s %d variables would be %d bytes, more than the %d bytes the system passes to a program: the largest are %s; pass fewer (FromPath, -path), or have the program read them from a file",
		name, whose, vars, size, execArgLimit(), largest)
}
