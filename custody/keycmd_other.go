//go:build !unix

package custody

import "os/exec"

// stopGroup leaves the default: the context kills the shell alone.
func stopGroup(cmd *exec.Cmd) {}
