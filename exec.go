package vault

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// An ExecSpec describes a child process that is to receive a vault's
// secrets in its environment, for [Vault.ExecEnv].
type ExecSpec struct {
	// Args is the child's command line. Only the program's base name is
	// audited; the whole line counts towards the kernel's size limit.
	Args []string
	// Base is the environment to start from, usually os.Environ(): the
	// package never reads the process environment itself.
	Base []string
	// Remove names variables of Base to leave out, such as the one that
	// held the key: a child has no business with the key.
	Remove []string
	// Prefix and Flatten choose the variables, as for Flatten.
	Prefix  string
	Flatten []FlattenOption
}

// ExecEnv returns the environment for a child process: Base without the
// Remove variables and without any variable the vault sets, then the vault's
// variables, sorted. It also returns a Masker of the values and of the key
// that opened the vault, for Redactors over the child's output.
//
// It refuses, before anything starts, an environment the kernel would refuse
// at exec (one NAME=value over [MaxEnvString] is already a Flatten error;
// here the whole of arguments and environment, over a quarter of the stack
// limit, 2 MiB by default on Linux), naming the largest variables.
//
// ExecEnv is audited as OpExec, with the variable names, a fingerprint of
// the values and the program's name; if the audit fails, it returns nothing.
func (v *Vault) ExecEnv(spec ExecSpec) ([]string, *Masker, error) {
	if err := v.ready(); err != nil {
		return nil, nil, err
	}
	vars, err := flatten(v.name, v.doc(), spec.Prefix, spec.Flatten)
	var env []string
	if err == nil {
		env = childEnv(spec.Base, spec.Remove, vars)
		err = checkExecSize(v.name, spec.Args, env, vars)
	}
	event := v.event(OpExec, err)
	if len(spec.Args) > 0 {
		event.Command = filepath.Base(spec.Args[0])
	}
	if err == nil {
		event.Names = sortedNames(vars)
		if v.fingerprint != nil {
			event.ValueFingerprint = v.fingerprint(namesAndValues(vars, event.Names)...)
		}
	}
	if err := withAudit(err, v.opts.audit(context.Background(), event)); err != nil {
		return nil, nil, err
	}
	values := make([]string, 0, len(vars)+1)
	for _, n := range sortedNames(vars) {
		values = append(values, vars[n])
	}
	return env, NewMasker(append(values, v.key.Encode())...), nil
}

func childEnv(base, remove []string, vars map[string]string) []string {
	env := make([]string, 0, len(base)+len(vars))
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if _, set := vars[name]; set || slices.Contains(remove, name) {
			continue
		}
		env = append(env, kv)
	}
	return append(env, environ(vars, sortedNames(vars))...)
}

// checkExecSize refuses an argument list and environment larger than the
// kernel takes: strings with their NULs and a pointer each.
func checkExecSize(name string, args, env []string, vars map[string]string) error {
	size := 8 * (len(args) + len(env) + 2)
	for _, s := range args {
		size += len(s) + 1
	}
	for _, s := range env {
		size += len(s) + 1
	}
	limit := execArgLimit()
	if size <= limit {
		return nil
	}
	names := sortedNames(vars)
	slices.SortStableFunc(names, func(a, b string) int { return len(vars[b]) - len(vars[a]) })
	var largest []string
	for _, n := range names[:min(3, len(names))] {
		largest = append(largest, fmt.Sprintf("%s (%d bytes)", n, len(n)+len(vars[n])+2))
	}
	return fmt.Errorf("vault: %s: the environment of %d variables would be %d bytes, more than the %d bytes the system passes to a program: the largest are %s; pass fewer (FromPath, -path), or have the program read them from a file",
		name, len(env), size, limit, strings.Join(largest, ", "))
}
