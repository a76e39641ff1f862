package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// An Exporter writes variables, as Flatten makes them, in one format to w.
// The Export functions of this package ([ExportShell], [ExportDotenv],
// [ExportJSON], [ExportGitLab], [ExportAzure]) are Exporters;
// [GitHubExporter] builds one that also writes to $GITHUB_ENV. Every
// exporter of this package checks all the variables before it writes
// anything, so that an error leaves no partial output, and writes names in
// sorted order. Its errors name variables, never values.
type Exporter func(w io.Writer, vars map[string]string) error

// Export flattens the vault (see [Flatten]) and writes the variables with
// export, audited as OpExport with their names and a fingerprint of the
// values. Nothing is written unless the audit record was.
func (v *Vault) Export(w io.Writer, export Exporter, prefix string, opts ...FlattenOption) error {
	return v.ExportContext(context.Background(), w, export, prefix, opts...)
}

// ExportContext is Export with a context, which the Auditor receives (see
// [Auditor]).
func (v *Vault) ExportContext(ctx context.Context, w io.Writer, export Exporter, prefix string, opts ...FlattenOption) error {
	if w == nil || export == nil {
		return fmt.Errorf("vault: %s: Export needs a writer and an Exporter, such as ExportShell", v.Name())
	}
	vars, _, err := v.flatten(ctx, OpExport, prefix, opts, false)
	if err != nil {
		return err
	}
	public, err := notSecret(v.name, *v.doc(), opts)
	if err != nil {
		return err
	}
	if len(public) > 0 {
		w = exportWriter{Writer: w, notSecret: public}
	}
	return export(w, vars)
}

// An exportWriter is the writer Export gives an Exporter when values are
// declared [NotSecret]: the exporters that ask a CI system to mask values
// ([GitHubExporter], [ExportAzure]) leave those values out.
type exportWriter struct {
	io.Writer
	notSecret map[string]bool
}

// masked reports whether an exporter writing to w asks to mask value: the
// masking rule, less the values Export was told are not secret.
func masked(w io.Writer, value string) bool {
	ew, ok := w.(exportWriter)
	return IsMaskable(value) && !(ok && ew.notSecret[value])
}

// checkVars refuses names that are not shell variable names and values that
// no environment can carry.
func checkVars(vars map[string]string) ([]string, error) {
	names := sortedNames(vars)
	for _, n := range names {
		if !isEnvName(n) {
			return nil, fmt.Errorf("vault: export: %q is not a shell variable name ([A-Za-z_][A-Za-z0-9_]*)", n)
		}
		if strings.IndexByte(vars[n], 0) >= 0 {
			return nil, fmt.Errorf("vault: export: the value of %s holds a NUL byte, which no environment variable can carry", n)
		}
	}
	return names, nil
}

// ExportShell writes one line per variable, export NAME='value', with POSIX
// single quotes: inside them every character is literal. A single quote in
// the value closes the quotes, adds an escaped quote and reopens them:
//
//	it's  ->  'it'\''s'
//
// The output is safe to eval or source in sh, dash, bash, ksh and zsh, and
// keeps multi-line values, "$", backquotes and backslashes intact.
func ExportShell(w io.Writer, vars map[string]string) error {
	names, err := checkVars(vars)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for _, n := range names {
		b.WriteString("export ")
		b.WriteString(n)
		b.WriteByte('=')
		writeShellQuoted(&b, vars[n])
		b.WriteByte('\n')
	}
	return writeAll(w, &b)
}

// ExportGitLab writes the lines of [ExportShell], for
// eval "$(credvault env -format gitlab)" in a GitLab job's script: the
// script's lines run in one shell, so the variables last for the rest of the
// job. GitLab's dotenv reports are not a channel for secrets: they are
// artifacts anyone with access to the job can download, limited to 5 KB and
// single-line values.
func ExportGitLab(w io.Writer, vars map[string]string) error {
	return ExportShell(w, vars)
}

func writeShellQuoted(b *bytes.Buffer, s string) {
	b.WriteByte('\'')
	b.WriteString(strings.ReplaceAll(s, "'", `'\''`))
	b.WriteByte('\'')
}

// ExportDotenv writes NAME="value" lines in the common .env format: the
// value double-quoted, with the escapes \\, \", \n and \r, so that a
// multi-line value (a PEM key) stays on one line. Dotenv parsers expand
// variables inside double quotes and disagree on how to escape a "$" (docker
// compose and godotenv expand $NAME and ${NAME}, python-dotenv ${NAME}), so
// a value with "$" followed by a letter, digit, "_", "{" or "(" is refused,
// naming the variable, with advice to use the shell or JSON format; any other
// "$" is kept. Refused too, because a common parser would read them back
// changed: a value ending in a backslash (python-dotenv takes the escaped
// backslash and the closing quote for an escaped quote), a value ending in
// a double quote (godotenv v1.5 drops the quote and keeps a backslash), and
// a backslash followed by "$" (godotenv unescapes \$ to $). Everything else
// reads back exactly with python-dotenv (tested against Debian's
// python3-dotenv) and joho/godotenv v1.5.1 (tested); Node's dotenv expands
// \n and \r but keeps \" and \\ as written.
func ExportDotenv(w io.Writer, vars map[string]string) error {
	names, err := checkVars(vars)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for _, n := range names {
		v := vars[n]
		if i := expansion(v); i >= 0 {
			return fmt.Errorf("vault: export: %s holds a \"$\" that dotenv parsers would expand as a variable (at byte %d): use the shell or JSON format", n, i+1)
		}
		if strings.HasSuffix(v, `\`) {
			return fmt.Errorf("vault: export: %s ends with a backslash, which python-dotenv reads as escaping the closing quote: use the shell or JSON format", n)
		}
		if strings.HasSuffix(v, `"`) {
			return fmt.Errorf("vault: export: %s ends with a double quote, which godotenv reads back without it: use the shell or JSON format", n)
		}
		if i := strings.Index(v, `\$`); i >= 0 {
			return fmt.Errorf("vault: export: %s holds a backslash before a \"$\" (at byte %d), which godotenv drops: use the shell or JSON format", n, i+1)
		}
		b.WriteString(n)
		b.WriteString(`="`)
		for i := 0; i < len(v); i++ {
			switch c := v[i]; c {
			case '\\', '"':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteString("\"\n")
	}
	return writeAll(w, &b)
}

// expansion returns the index of a "$" that a dotenv parser would expand,
// or -1.
func expansion(v string) int {
	for i := 0; i+1 < len(v); i++ {
		if v[i] != '$' {
			continue
		}
		c := v[i+1]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '{' || c == '(' {
			return i
		}
	}
	return -1
}

// ExportJSON writes one JSON object from names to values, sorted and
// indented, with a final newline.
func ExportJSON(w io.Writer, vars map[string]string) error {
	names, err := checkVars(vars)
	if err != nil {
		return err
	}
	b := make([]byte, 0, 64*len(vars))
	b = append(b, '{')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n  "...)
		b = appendJSONString(b, n)
		b = append(b, ": "...)
		var ok bool
		if b, ok = appendJSONStringChecked(b, vars[n]); !ok {
			clear(b)
			return fmt.Errorf("vault: export: the value of %s is not valid UTF-8, which JSON cannot carry", n)
		}
	}
	if len(names) > 0 {
		b = append(b, '\n')
	}
	b = append(b, "}\n"...)
	return writeAll(w, bytes.NewBuffer(b))
}

// ExportAzure writes one Azure Pipelines logging command per variable,
// ##vso[task.setvariable variable=NAME;issecret=true]value, which makes the
// agent mask the value in the rest of the job's logs. Before them, for each
// such value, it registers with ##vso[task.setsecret]form the forms of it
// that a [Masker] masks (the value without surrounding whitespace, its
// encodings and escapings): the agent itself derives only a few escapings
// of a secret, and no encoding. A value the masking rule leaves out
// ([IsMaskable]: short values, booleans) or declared [NotSecret] is set
// without issecret: Azure would otherwise mask every "3" in the log. The
// agent's escapes are applied ("%" as %AZP25). Azure refuses a secret with a
// line break, so such a value is an error that names the variable: store it
// base64-encoded, or write it to a file and export the path. A secret
// variable reaches later steps' scripts only through an env: mapping in the
// pipeline YAML; the others are environment variables of later steps as
// they are.
func ExportAzure(w io.Writer, vars map[string]string) error {
	names, err := checkVars(vars)
	if err != nil {
		return err
	}
	var masks, b bytes.Buffer
	registered := map[string]bool{}
	for _, n := range names {
		v := vars[n]
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("vault: export: %s holds a line break, and Azure Pipelines refuses multi-line secrets: store it base64-encoded, or write it to a file and export the file's path", n)
		}
		secret := ";issecret=true"
		if masked(w, v) {
			registered[v] = true
			ciForms(v, func(form string, _ bool) {
				if !registered[form] {
					registered[form] = true
					fmt.Fprintf(&masks, "##vso[task.setsecret]%s\n", escapeAzureData(form))
				}
			})
		} else {
			secret = ""
		}
		fmt.Fprintf(&b, "##vso[task.setvariable variable=%s%s]%s\n", n, secret, escapeAzureData(v))
	}
	masks.Write(b.Bytes())
	clear(b.Bytes())
	return writeAll(w, &masks)
}

// escapeAzureData escapes a logging command's data as the agent unescapes
// it: "%" first, as %AZP25, then line breaks.
func escapeAzureData(s string) string {
	return escapeData(s, "%AZP25")
}

// ciForms calls register with each form of value that a Masker masks, for a
// CI runner, which masks each line of output on its own (see
// formSet.lineBased), and whether the GitHub runner derives the form by
// itself.
func ciForms(value string, register func(form string, githubDerives bool)) {
	fs := formSet{derived: []bool{}, lineBased: true}
	fs.addSecret(value)
	for i, p := range fs.pats {
		register(string(fs.text[p.off:p.off+p.n]), fs.derived[i])
	}
	clear(fs.text)
}

// GitHubExporter returns an Exporter for GitHub Actions. It writes to w (the
// step's stdout), before anything else, a ::add-mask:: command for every
// value the masking rule applies to ([IsMaskable]) and that is not declared
// [NotSecret], for each line of a multi-line value, for the value without
// surrounding whitespace, and for each form of it that a [Masker] masks and
// the runner does not derive by itself (it derives standard base64, URL
// data escaping, JSON and XML escaping), so that the runner masks them in
// the rest of the job (including the env: header it prints for later
// steps). Then it appends every variable to envFile (the
// file named by $GITHUB_ENV) as
//
//	NAME<<ghadelimiter_RANDOM
//	value
//	ghadelimiter_RANDOM
//
// with a fresh random delimiter for each entry, and refuses a value that
// contains its delimiter, so that no value can end its entry early and
// inject variables. Later steps of the job see the variables.
func GitHubExporter(envFile io.Writer) Exporter {
	return func(w io.Writer, vars map[string]string) error {
		names, err := checkVars(vars)
		if err != nil {
			return err
		}
		var masks, entries bytes.Buffer
		registered := map[string]bool{}
		for _, n := range names {
			v := vars[n]
			if masked(w, v) {
				ciForms(v, func(form string, derived bool) {
					if !derived && !registered[form] {
						registered[form] = true
						masks.WriteString("::add-mask::")
						masks.WriteString(escapeGitHubData(form))
						masks.WriteByte('\n')
					}
				})
			}
			delim, err := githubDelimiter()
			if err != nil {
				return err
			}
			if strings.Contains(v, delim) {
				return fmt.Errorf("vault: export: the value of %s contains its random delimiter, which cannot happen by chance: refusing to write it", n)
			}
			fmt.Fprintf(&entries, "%s<<%s\n%s\n%s\n", n, delim, v, delim)
		}
		if err := writeAll(w, &masks); err != nil {
			return err
		}
		return writeAll(envFile, &entries)
	}
}

// escapeGitHubData escapes a workflow command's data as the runner unescapes it.
func escapeGitHubData(s string) string {
	return escapeData(s, "%25")
}

// escapeData escapes "%" as percent, then line breaks as %0D and %0A: a
// CI runner's escaping of a workflow command's data. It is called for
// every form of every value, so it makes no replacer, and returns s
// itself when nothing needs escaping, as most forms do not.
func escapeData(s, percent string) string {
	if !strings.ContainsAny(s, "%\r\n") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			b.WriteString(percent)
		case '\r':
			b.WriteString("%0D")
		case '\n':
			b.WriteString("%0A")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// githubDelimiter returns "ghadelimiter_" and 32 random hex digits, the form
// of GitHub's own toolkit with a random part instead of a UUID.
func githubDelimiter() (string, error) {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("vault: export: cannot read random bytes for a delimiter: %w", err)
	}
	return "ghadelimiter_" + hex.EncodeToString(r[:]), nil
}

// writeAll writes b to w in one call, and clears b, which holds secrets.
func writeAll(w io.Writer, b *bytes.Buffer) error {
	defer clear(b.Bytes())
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("vault: export: %w", err)
	}
	return nil
}
