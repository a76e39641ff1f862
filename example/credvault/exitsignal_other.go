//go:build !unix

package main

import (
	"os"
	"os/exec"
)

func exitSignal(*exec.ExitError) os.Signal { return nil }
