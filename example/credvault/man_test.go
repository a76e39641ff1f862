package main

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// renderMan renders the manual page with groff as man(1) would, and fails
// the test on any warning.
func renderMan(t *testing.T) string {
	t.Helper()
	groff := requireTool(t, "groff")
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww")
	cmd.Stdin = strings.NewReader(manPage("v1.2.3"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("groff: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("groff -man -Tutf8 -ww warns:\n%s", stderr.String())
	}
	// Plain text: no overstriking (bold, underline), ASCII punctuation.
	text := regexp.MustCompile("[^\b]\b").ReplaceAllString(stdout.String(), "")
	return strings.NewReplacer("\u2010", "-", "\u2212", "-", "\u2018", "'", "\u2019", "'", "\u201c", `"`, "\u201d", `"`).Replace(text)
}

// TestManPage checks that the manual says what help says: every command's
// usage, summary, flags (with their text and defaults) and example, in its
// own section, as groff renders it without a warning.
func TestManPage(t *testing.T) {
	page := renderMan(t)
	if !strings.Contains(page, "credvault v1.2.3") {
		t.Errorf("the page does not name the version")
	}
	for _, want := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "ENVIRONMENT", "EXIT STATUS"} {
		if !regexp.MustCompile(`(?m)^` + want + `$`).MatchString(page) {
			t.Errorf("the page has no %s section", want)
		}
	}
	for _, v := range []string{"MASTER_KEY", "CREDVAULT_AUDIT"} {
		if !regexp.MustCompile(`(?m)^ +` + v + `$`).MatchString(page) {
			t.Errorf("ENVIRONMENT does not list %s", v)
		}
	}

	// The page's command sections, by their usage lines.
	var names []string
	for _, cmd := range commands() {
		if !cmd.hidden {
			names = append(names, cmd.name)
		}
	}
	sections := map[string]string{}
	heading := regexp.MustCompile(`(?m)^   credvault (\S+)( .*)?$`)
	locs := heading.FindAllStringSubmatchIndex(page, -1)
	for i, loc := range locs {
		end := len(page)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		sections[page[loc[2]:loc[3]]] = squeeze(page[loc[0]:end])
	}

	noEnv := func(string) string { return "" }
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			section, ok := sections[name]
			if !ok {
				t.Fatalf("the page has no section for %s", name)
			}
			var help strings.Builder
			if status := run([]string{"help", name}, &cli{stdout: &help, stderr: &help, getenv: noEnv}); status != 0 {
				t.Fatalf("help %s: exit status %d\n%s", name, status, help.String())
			}
			for _, want := range helpParts(help.String()) {
				if !strings.Contains(section, squeeze(want)) {
					t.Errorf("the page's section on %s lacks %q\nsection:\n%s", name, want, section)
				}
			}
		})
	}
}

// helpParts splits a command's help into what the manual must say too: the
// usage line, the summary, each flag with its text, each line of the
// example.
func helpParts(help string) []string {
	var parts []string
	head, rest, _ := strings.Cut(help, "\nExample:\n")
	for _, l := range strings.Split(rest, "\n") {
		if strings.TrimSpace(l) != "" {
			parts = append(parts, l)
		}
	}
	head, flags, _ := strings.Cut(head, "\nFlags:\n")
	usage, summary, _ := strings.Cut(head, "\n\n")
	parts = append(parts, strings.TrimPrefix(usage, "Usage: "), summary)
	var flag string
	for _, l := range strings.Split(flags, "\n") {
		if text, ok := strings.CutPrefix(l, "    \t"); ok {
			flag += " " + text
			continue
		}
		if flag != "" {
			parts = append(parts, flag)
		}
		flag = strings.TrimSpace(l)
	}
	if flag != "" {
		parts = append(parts, flag)
	}
	return parts
}

// squeeze collapses runs of white space, as filling does.
func squeeze(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func TestManCommand(t *testing.T) {
	var out strings.Builder
	if status := run([]string{"man"}, &cli{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}); status != 0 {
		t.Fatalf("man: exit status %d\n%s", status, out.String())
	}
	if !strings.HasPrefix(out.String(), ".TH CREDVAULT 1 ") {
		t.Errorf("man does not print a manual page: %.80q", out.String())
	}
}
