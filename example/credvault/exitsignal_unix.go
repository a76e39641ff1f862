//go:build unix

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// exitSignal returns the signal that ended the process, or nil.
func exitSignal(ee *exec.ExitError) os.Signal {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal()
	}
	return nil
}
