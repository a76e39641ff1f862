//go:build !unix

package vault

import "os"

// relayedSignals is empty: this system has no signals to relay.
func relayedSignals() []os.Signal { return nil }

// terminate ends p: there is no signal to ask it politely.
func terminate(p *os.Process) error { return p.Kill() }

func exitSignal(*os.ProcessState) os.Signal { return nil }

func signalStatus(os.Signal) int { return 1 }
