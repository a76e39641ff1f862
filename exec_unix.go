//go:build unix

package vault

import (
	"os"
	"syscall"
)

// relayedSignals are the signals a Command with RelaySignals catches.
func relayedSignals() []os.Signal {
	return []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}
}

// terminate asks p to end, with SIGTERM.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

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
