//go:build unix

package custody

import (
	"os/exec"
	"syscall"
)

// stopGroup makes the command its own process group and, when its context
// ends, kills the whole group: "sh -c 'vault kv get ...'" starts children
// that a kill of the shell alone would leave running.
func stopGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
