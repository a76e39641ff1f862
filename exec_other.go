//go:build !unix

package vault

import (
	"os"
	"os/exec"
	"time"
)

// relayedSignals is empty: this system has no signals to relay.
func relayedSignals() []os.Signal { return nil }

// terminateSignal ends a process: there is no signal to ask it politely.
var terminateSignal = os.Kill

// setOwnGroup does nothing: signals here reach one process.
func setOwnGroup(*exec.Cmd) bool { return false }

// signalChild sends sig to p.
func signalChild(p *os.Process, _ bool, sig os.Signal) error { return p.Signal(sig) }

// endGroup does nothing: there are no process groups.
func endGroup(int, time.Time) {}

func exitSignal(*os.ProcessState) os.Signal { return nil }

func signalStatus(os.Signal) int { return 1 }
