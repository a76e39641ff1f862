//go:build unix

package custody

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// stopGroup makes the command its own process group and, when its context
// ends, kills the whole group: "sh -c 'vault kv get ...'" starts children
// that a kill of the shell alone would leave running.
//
// At a terminal, when this process is in the terminal's foreground group,
// the command stays in that group instead, as a shell's foreground job
// does: a key command may prompt there ("op read" asks for the account's
// password, "gcloud" for a login), and a process group of its own would be
// stopped (SIGTTIN) at its first read of the terminal, to wait out the time
// limit. There Ctrl-C reaches the command with this process, and the time
// limit kills the shell alone.
func stopGroup(cmd *exec.Cmd) {
	if inForeground() {
		return
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// inForeground reports whether this process has a controlling terminal and
// is in its foreground process group.
func inForeground() bool {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false // no controlling terminal
	}
	defer tty.Close()
	foreground, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	if err != nil {
		return false
	}
	ours, err := unix.Getpgid(0)
	return err == nil && foreground == ours
}
