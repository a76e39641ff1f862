//go:build unix

package vault

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// relayedSignals are the signals a Command with RelaySignals catches.
func relayedSignals() []os.Signal {
	return []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}
}

// terminateSignal asks a process to end.
const terminateSignal = syscall.SIGTERM

// setOwnGroup makes cmd start in a process group of its own, whose id is
// its pid, and reports that it did.
func setOwnGroup(cmd *exec.Cmd) bool {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	return true
}

// signalChild sends sig to p, or to p's process group if group.
func signalChild(p *os.Process, group bool, sig os.Signal) error {
	s, ok := sig.(syscall.Signal)
	if !group || !ok {
		return p.Signal(sig)
	}
	return syscall.Kill(-p.Pid, s)
}

// groupPoll is how often endGroup looks whether a process group is empty.
const groupPoll = 10 * time.Millisecond

// endGroup waits, once the group's leader has been waited for, until the
// process group pgid is empty, and kills what remains of it at deadline.
// It returns only when no process is left that could be signalled, so
// that no signal is sent later to a group whose id was reused.
func endGroup(pgid int, deadline time.Time) {
	for syscall.Kill(-pgid, 0) == nil {
		wait := time.Until(deadline)
		if wait <= 0 {
			syscall.Kill(-pgid, syscall.SIGKILL)
			return
		}
		time.Sleep(min(wait, groupPoll))
	}
}

// exitSignal returns the signal that ended the process, or nil.
func exitSignal(state *os.ProcessState) os.Signal {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal()
	}
	return nil
}

// signalStatus is the exit status a shell gives a process that sig ended.
func signalStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}
