package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/credvault/vault"
	"golang.org/x/term"
)

// auditor returns where this command's audit records go, chosen for who
// reads them:
//
//   - -audit FILE, or else $CREDVAULT_AUDIT: complete records as JSON lines
//     appended to that file, for keeping and shipping;
//   - in CI (a pipeline is detected), or when stderr is not a terminal:
//     complete records as text on stderr, which the CI log, a cron mail, a
//     systemd journal or the calling script keeps;
//   - on an interactive terminal outside CI: one short line per command
//     on stderr, when the command ends.
//
// There is no setting that turns auditing off. Where stderr is neither a
// terminal nor in a CI we can name, it may be a CI we cannot detect
// (Tekton, Argo, a home-grown runner), a cron job or a service: whatever
// collects its stderr is the only record there is, so it gets the complete
// one.
func (f *vaultFlags) auditor(p vault.Pipeline) (vault.Auditor, error) {
	path, from := f.audit, "-audit"
	if path == "" {
		path, from = f.c.getenv("CREDVAULT_AUDIT"), "$CREDVAULT_AUDIT"
	}
	if path != "" {
		file, err := f.openAuditFile(path, from, f.c.stderr)
		if err != nil {
			return nil, err
		}
		f.c.atExit = append(f.c.atExit, func() { file.Close() })
		return vault.NewSlogAuditor(slog.New(slog.NewJSONHandler(file, nil))), nil
	}
	if p.Platform == "local" && isTerminalWriter(f.c.stderr) {
		if f.quiet {
			return vault.AuditorFunc(func(context.Context, vault.Event) error { return nil }), nil
		}
		s := &auditSummary{}
		f.c.atExit = append(f.c.atExit, func() { s.print(f.c.stderr) })
		return s, nil
	}
	return vault.NewSlogAuditor(slog.New(slog.NewTextHandler(f.c.stderr, nil))), nil
}

// isTerminalWriter reports whether w is a terminal, as x/term sees it: a
// character device such as /dev/null is not one.
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// An auditSummary is the audit of one command on an interactive terminal:
// it keeps the events and prints one line when the command ends, such as
//
//	credvault: audit: get database.password (credentials.enc, key 8343ee68f937)
//
// Its Audit never fails: the person at the terminal is the reader, and the
// line is written when the command's own output is done.
type auditSummary struct {
	mu     sync.Mutex
	events []vault.Event
}

func (s *auditSummary) Audit(_ context.Context, e vault.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Names = slices.Clone(e.Names) // the contract: keep no slice of the Event
	s.events = append(s.events, e)
	return nil
}

func (s *auditSummary) print(w io.Writer) {
	if line := s.line(); line != "" {
		fmt.Fprintln(w, line)
	}
}

// line sums up the events: each operation once, an open only when nothing
// followed it, the vault files, the last key, and "failed" if one did.
func (s *auditSummary) line() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ops, vaults []string
	key, failed := "", false
	for i, e := range s.events {
		if e.Err != nil {
			failed = true
		}
		if e.SealKey != "" {
			key = e.SealKey
		} else if e.Key != "" {
			key = e.Key
		}
		if !slices.Contains(vaults, e.Vault) {
			vaults = append(vaults, e.Vault)
		}
		if e.Op == vault.OpOpen && e.Err == nil && i < len(s.events)-1 {
			continue // every other operation opens the vault first
		}
		if e.Op == vault.OpDecode && e.Err == nil && changedLater(s.events[i+1:], e.Path) {
			continue // set reads the old value's type before it changes it
		}
		if op := describe(e); !slices.Contains(ops, op) {
			ops = append(ops, op)
		}
	}
	if len(ops) == 0 {
		return ""
	}
	where := strings.Join(vaults, ", ")
	if key != "" {
		where += ", key " + key
	}
	line := "credvault: audit: " + strings.Join(ops, ", ") + " (" + where + ")"
	if failed {
		line += ": failed"
	}
	return line
}

// changedLater reports whether one of events set or deleted the value at
// path.
func changedLater(events []vault.Event, path string) bool {
	for _, e := range events {
		if (e.Op == vault.OpSet || e.Op == vault.OpDelete) && e.Path == path {
			return true
		}
	}
	return false
}

// describe names an event's operation and what it touched, never a value:
// "get database.password", "export 12 names", "exec deploy.sh with 12 names".
func describe(e vault.Event) string {
	s := string(e.Op)
	if e.Command != "" {
		s += " " + e.Command
	}
	if e.Path != "" {
		s += " " + e.Path
	}
	if e.Recipient != "" {
		s += " " + e.Recipient
	}
	switch n := len(e.Names); {
	case n == 1 && e.Command == "":
		s += " 1 name"
	case n == 1:
		s += " with 1 name"
	case n > 1 && e.Command == "":
		s += fmt.Sprintf(" %d names", n)
	case n > 1:
		s += fmt.Sprintf(" with %d names", n)
	}
	return s
}
