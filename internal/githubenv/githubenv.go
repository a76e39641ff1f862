// Package githubenv reads a $GITHUB_ENV file by the GitHub Actions runner's
// rules (actions/runner FileCommandManager.cs), for tests that check what
// the next step of a job would see.
package githubenv

import (
	"fmt"
	"strings"
)

// Parse reads file as the runner does between steps: a line NAME<<DELIM
// starts a value that runs to the first line equal to DELIM; any other
// non-empty line is NAME=value, split at its first "=". It returns the
// variables and the delimiters, in order.
func Parse(file string) (vars map[string]string, delims []string, err error) {
	vars = map[string]string{}
	lines := strings.Split(file, "\n")
	if lines[len(lines)-1] != "" {
		return nil, nil, fmt.Errorf("the env file does not end with a newline")
	}
	lines = lines[:len(lines)-1]
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		eq, heredoc := strings.Index(line, "="), strings.Index(line, "<<")
		if heredoc >= 0 && (eq < 0 || heredoc < eq) {
			name, delim := line[:heredoc], line[heredoc+2:]
			delims = append(delims, delim)
			var value []string
			for i++; ; i++ {
				if i == len(lines) {
					return nil, nil, fmt.Errorf("the entry of %s has no closing delimiter", name)
				}
				if lines[i] == delim {
					break
				}
				value = append(value, lines[i])
			}
			vars[name] = strings.Join(value, "\n")
			continue
		}
		if eq < 0 {
			return nil, nil, fmt.Errorf("line %d is neither NAME=value nor NAME<<DELIM", i+1)
		}
		vars[line[:eq]] = line[eq+1:]
	}
	return vars, delims, nil
}
