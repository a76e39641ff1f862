package vault

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file lists what a secret may look like in a log: the forms that
// everyday tools print it in. A Masker masks every one of them, and the
// GitHub exporter registers with the runner those the runner does not derive
// itself.

// IsMaskable reports whether the masking rule applies to a value: whether a
// Masker masks it and the exporters ask a CI system to mask it. A value is
// masked when, without surrounding whitespace, it has at least
// [MinSecretLen] bytes and is not a boolean ("true" or "false" in any case).
// Masking "on", "1" or "abc" would garble ordinary output everywhere while
// hiding nothing an attacker could not guess; CircleCI and Travis draw the
// line at the same place. Values that are long enough but not secret (host
// names, ports, user names) can be declared with [NotSecret].
func IsMaskable(value string) bool {
	t := strings.TrimSpace(value)
	return len(t) >= MinSecretLen && !strings.EqualFold(t, "true") && !strings.EqualFold(t, "false")
}

// A span is a pattern: text[off:off+n] of a formSet.
type span struct{ off, n uint32 }

// A formSet collects the forms of secrets as spans of one text, with no
// string or slice per form: what a Masker is built from. When derived is
// non-nil, it records for each form whether the GitHub runner derives it by
// itself from a value registered with ::add-mask::.
type formSet struct {
	text    []byte
	pats    []span
	derived []bool
	scratch []byte
	unit    int // the index in pats of the first form of the current unit
}

// addSecrets adds the forms of each secret.
func (fs *formSet) addSecrets(secrets []string) {
	for _, s := range secrets {
		fs.addSecret(s)
	}
}

// addSecret adds the forms of a secret: of the value, of the value without
// surrounding whitespace, and of each line of a multi-line value (output
// often reaches a log line by line), each line without surrounding
// whitespace. It adds nothing for a value the masking rule leaves out.
func (fs *formSet) addSecret(s string) {
	if !IsMaskable(s) {
		return
	}
	fs.addUnit(s)
	if t := strings.TrimSpace(s); len(t) < len(s) {
		fs.addUnit(t)
	}
	if strings.ContainsAny(s, "\r\n") {
		for _, line := range strings.Split(s, "\n") {
			if l := strings.TrimSpace(line); IsMaskable(l) {
				fs.addUnit(l)
			}
		}
	}
}

// addUnit adds u and its encoded forms. Each escaping is added only in the
// variants that differ for u: most secrets need no escaping at all, and the
// variants of URL escaping differ only on a few characters.
func (fs *formSet) addUnit(u string) {
	fs.unit = len(fs.pats)
	start := len(fs.text)
	fs.text = append(fs.text, u...)
	fs.add(start, len(u), false)

	fs.addBase64(u)

	var has byteClass
	for i := 0; i < len(u); i++ {
		has |= byteClasses[u[i]]
	}
	if has&classURL != 0 {
		fs.addURL(u, &urlQueryKeep, 0) // Python's quote(safe=""), jq 1.7's @uri, .NET's EscapeDataString
		if has&classSpace != 0 {
			fs.addURL(u, &urlQueryKeep, '+') // Go's QueryEscape, Python's quote_plus
		}
		if has&classSlash != 0 {
			fs.addURL(u, &urlPythonKeep, 0) // Python's quote (safe="/")
		}
		if has&classJS != 0 {
			fs.addURL(u, &urlJSKeep, 0) // encodeURIComponent, jq 1.6's @uri
		}
		if has&classGoPath != 0 {
			fs.addURL(u, &urlGoPathKeep, 0) // Go's PathEscape
		}
	}
	if has&classHTML != 0 {
		fs.addHTML(u, "&quot;", "&apos;", true) // XML, as the GitHub runner masks it
		if has&classQuote != 0 {
			fs.addHTML(u, "&quot;", "&#x27;", false) // Python's html.escape
			fs.addHTML(u, "&#34;", "&#39;", false)   // Go's html.EscapeString and templates
			fs.addHTML(u, `"`, "'", false)           // text content, html.escape(quote=False)
		}
	}
	if has&(classQuote|classSpaceControl) != 0 {
		fs.addXMLText(u) // Go's xml.EscapeText: also tabs and line breaks
	}
	if has&classJSON != 0 {
		fs.addJSON(u, jsonPlain, true)
	}
	if has&classHigh != 0 {
		fs.addJSON(u, jsonGo, false)
		fs.addJSON(u, jsonASCII, false)
	}
	if has&(classHigh|classHTML) != 0 {
		fs.addJSON(u, jsonGo|jsonHTML, false)
	}
	if has&classBF != 0 {
		fs.addJSON(u, jsonOld, false)
	}
	if has&classShell != 0 || u[0] == '~' || u[0] == '#' {
		fs.addShell(u, has&classHigh != 0)
	}
}

// A byteClass says which escapings change a byte.
type byteClass uint16

const (
	classURL          byteClass = 1 << iota // not unreserved in URLs
	classSpace                              // ' ', which URL escapers differ on
	classSlash                              // '/', which Python's quote keeps
	classJS                                 // kept by encodeURIComponent
	classGoPath                             // kept by Go's PathEscape
	classHTML                               // escaped in HTML and XML
	classQuote                              // quotes, which HTML escapers differ on
	classSpaceControl                       // tab, CR, LF: escaped in XML text by Go
	classJSON                               // escaped by every JSON encoder
	classHigh                               // DEL and beyond ASCII: escaped by some JSON encoders
	classBF                                 // backspace and form feed, which JSON encoders differ on
	classShell                              // escaped by printf %q
)

var byteClasses = func() (t [256]byteClass) {
	set := func(class byteClass, chars string) {
		for i := 0; i < len(chars); i++ {
			t[chars[i]] |= class
		}
	}
	for c := range 256 {
		if !urlQueryKeep[c] {
			t[c] |= classURL
		}
		if c < 0x20 {
			t[c] |= classJSON
		}
		if c >= 0x7f {
			t[c] |= classHigh
		}
		if c < 0x20 || c == 0x7f {
			t[c] |= classShell
		}
	}
	set(classSpace, " ")
	set(classSlash, "/")
	set(classJS, "!*'()")
	set(classGoPath, "$&+:=@")
	set(classHTML, `&<>"'`)
	set(classQuote, `"'`)
	set(classSpaceControl, "\t\n\r")
	set(classJSON, `"\`)
	set(classBF, "\b\f")
	set(classShell, " !\"$&'()*,;<>?[\\]^`{|}")
	return t
}()

// add records text[off:off+n] as a form, unless it is too short or the
// current unit already has it; derived says whether the GitHub runner
// derives it by itself.
func (fs *formSet) add(off, n int, derived bool) bool {
	if n < MinSecretLen {
		return false
	}
	form := fs.text[off : off+n]
	for _, p := range fs.pats[fs.unit:] {
		if int(p.n) == n && string(fs.text[p.off:p.off+p.n]) == string(form) {
			return false
		}
	}
	fs.pats = append(fs.pats, span{uint32(off), uint32(n)})
	if fs.derived != nil {
		fs.derived = append(fs.derived, derived)
	}
	return true
}

// addText records fs.text[start:] as a form, or drops it.
func (fs *formSet) addText(start int, derived bool) {
	if !fs.add(start, len(fs.text)-start, derived) {
		fs.text = fs.text[:start]
	}
}

// Base64 is masked in every form that holds only bits of the secret: the
// whole encoding, padded, when the secret is all that was encoded; the
// characters that depend on the secret alone when it starts at any of the
// three byte alignments inside a longer encoded string; and, since base64
// (76 columns) and openssl base64 (64) wrap their output, each line of those
// at each alignment. All of this in the standard and the URL-safe alphabet.
func (fs *formSet) addBase64(u string) {
	for shift := range 3 {
		n := base64.StdEncoding.EncodedLen(shift + len(u))
		src := append(append(slices.Grow(fs.scratch[:0], shift+len(u)+n), "\x00\x00"[:shift]...), u...)
		enc := src[len(src) : len(src)+n]
		base64.StdEncoding.Encode(enc, src)
		fs.scratch = src[:0]
		// Characters before skip hold bits of the unknown bytes in front;
		// characters from bitsEnd on, bits of the unknown bytes behind,
		// except in a whole encoding, which ends where the secret does.
		skip := []int{0, 2, 3}[shift]
		bitsEnd := (8 * len(src)) / 6
		end := bitsEnd
		if shift == 0 {
			end = n
		}
		start := len(fs.text)
		fs.text = append(fs.text, enc[skip:end]...)
		fs.addEncoded(start, skip, end, bitsEnd, true)
		if bytes.IndexByte(enc[skip:end], '+') >= 0 || bytes.IndexByte(enc[skip:end], '/') >= 0 {
			start := len(fs.text)
			for _, c := range enc[skip:end] {
				switch c {
				case '+':
					c = '-'
				case '/':
					c = '_'
				}
				fs.text = append(fs.text, c)
			}
			fs.addEncoded(start, skip, end, bitsEnd, false)
		}
	}
}

// addEncoded records the forms of one encoding, stored at text[start:] as
// the characters skip to end of the encoded stream: the whole of it, the
// part before bitsEnd if shorter (a whole encoding without its last
// characters and padding, as it reads inside a longer one), and the piece of
// the secret on each line when wrapped. std says whether the encoding uses
// the standard alphabet, whose forms the GitHub runner derives itself.
func (fs *formSet) addEncoded(start, skip, end, bitsEnd int, std bool) {
	fs.add(start, end-skip, std)
	if bitsEnd < end {
		fs.add(start, bitsEnd-skip, std)
	}
	for _, width := range []int{76, 64} {
		for line := 0; line*width < end && end > width; line++ {
			if lo, hi := max(line*width, skip), min((line+1)*width, end); hi > lo {
				fs.add(start+lo-skip, hi-lo, false)
			}
		}
	}
}

// URL escaping: the bytes each tool leaves as they are. All of them write
// upper-case hex digits (checked against each tool in the tests).

var (
	urlQueryKeep  = urlKeep("")
	urlPythonKeep = urlKeep("/")
	urlJSKeep     = urlKeep("!*'()")
	urlGoPathKeep = urlKeep("$&+:=@")
)

// urlKeep returns the bytes RFC 3986 leaves unreserved, and extra.
func urlKeep(extra string) (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", byte(c)) >= 0
	}
	for i := 0; i < len(extra); i++ {
		t[extra[i]] = true
	}
	return t
}

// addURL adds u escaped: bytes in keep as they are, a space as space if it
// is not 0, anything else as %XX.
func (fs *formSet) addURL(u string, keep *[256]bool, space byte) {
	const hex = "0123456789ABCDEF"
	start := len(fs.text)
	for i := 0; i < len(u); i++ {
		if keep[u[i]] { // a run of bytes kept, appended at once
			j := i + 1
			for j < len(u) && keep[u[j]] {
				j++
			}
			fs.text = append(fs.text, u[i:j]...)
			i = j - 1
			continue
		}
		switch c := u[i]; {
		case c == ' ' && space != 0:
			fs.text = append(fs.text, space)
		default:
			fs.text = append(fs.text, '%', hex[c>>4], hex[c&15])
		}
	}
	fs.addText(start, space == 0 && keep == &urlQueryKeep)
}

// addHTML adds u with &, < and > escaped, and quotes as given.
func (fs *formSet) addHTML(u, quot, apos string, derived bool) {
	start := len(fs.text)
	for i := 0; i < len(u); i++ {
		switch c := u[i]; c {
		case '&':
			fs.text = append(fs.text, "&amp;"...)
		case '<':
			fs.text = append(fs.text, "&lt;"...)
		case '>':
			fs.text = append(fs.text, "&gt;"...)
		case '"':
			fs.text = append(fs.text, quot...)
		case '\'':
			fs.text = append(fs.text, apos...)
		default:
			fs.text = append(fs.text, c)
		}
	}
	fs.addText(start, derived)
}

// addXMLText adds u as Go's xml.EscapeText writes it: HTML's escapes with
// &#34; and &#39;, and tabs and line breaks as character references.
func (fs *formSet) addXMLText(u string) {
	start := len(fs.text)
	for i := 0; i < len(u); i++ {
		switch c := u[i]; c {
		case '&':
			fs.text = append(fs.text, "&amp;"...)
		case '<':
			fs.text = append(fs.text, "&lt;"...)
		case '>':
			fs.text = append(fs.text, "&gt;"...)
		case '"':
			fs.text = append(fs.text, "&#34;"...)
		case '\'':
			fs.text = append(fs.text, "&#39;"...)
		case '\t':
			fs.text = append(fs.text, "&#x9;"...)
		case '\n':
			fs.text = append(fs.text, "&#xA;"...)
		case '\r':
			fs.text = append(fs.text, "&#xD;"...)
		default:
			fs.text = append(fs.text, c)
		}
	}
	fs.addText(start, false)
}

// The JSON string escapers differ in what they escape beyond the quote, the
// backslash and control characters.
const (
	jsonPlain = 0         // JavaScript's JSON.stringify, Python's json.dumps(ensure_ascii=False)
	jsonGo    = 1 << iota // Go: U+2028 and U+2029 too
	jsonHTML              // Go's default: <, > and & too
	jsonASCII             // Python's default: DEL and everything beyond ASCII, as \uXXXX
	jsonOld               // \b and \f as \u0008 and \u000c (Go before 1.22, this package's exporters)
)

// addJSON adds u as the inside of a JSON string.
func (fs *formSet) addJSON(u string, flags int, derived bool) {
	const hex = "0123456789abcdef"
	start := len(fs.text)
	u4 := func(r rune) {
		fs.text = append(fs.text, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
	}
	for i := 0; i < len(u); {
		c := u[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(u[i:])
			switch {
			case flags&jsonASCII != 0 && r >= 0x10000:
				hi, lo := utf16.EncodeRune(r)
				u4(hi)
				u4(lo)
			case flags&jsonASCII != 0, flags&jsonGo != 0 && (r == 0x2028 || r == 0x2029):
				u4(r)
			default:
				fs.text = append(fs.text, u[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			fs.text = append(fs.text, '\\', c)
		case c == '\n':
			fs.text = append(fs.text, '\\', 'n')
		case c == '\r':
			fs.text = append(fs.text, '\\', 'r')
		case c == '\t':
			fs.text = append(fs.text, '\\', 't')
		case c == '\b' && flags&jsonOld == 0:
			fs.text = append(fs.text, '\\', 'b')
		case c == '\f' && flags&jsonOld == 0:
			fs.text = append(fs.text, '\\', 'f')
		case c < 0x20, c == 0x7f && flags&jsonASCII != 0, flags&jsonHTML != 0 && (c == '<' || c == '>' || c == '&'):
			u4(rune(c))
		default:
			fs.text = append(fs.text, c)
		}
		i++
	}
	fs.addText(start, derived)
}

// addShell adds the shell-quoted forms of u: the inside of single quotes,
// a "'" written '\” (the shell exporters, and bash's set -x trace); and
// what bash's printf %q writes, with backslashes or, for a value with
// characters it does not print, as $'...', in a UTF-8 locale and, if u has
// bytes beyond ASCII (high), in the C locale (where every non-ASCII byte is
// one it does not print; the two agree on ASCII).
func (fs *formSet) addShell(u string, high bool) {
	if strings.IndexByte(u, '\'') >= 0 {
		start := len(fs.text)
		for i := 0; i < len(u); i++ {
			if u[i] == '\'' {
				fs.text = append(fs.text, `'\''`...)
			} else {
				fs.text = append(fs.text, u[i])
			}
		}
		fs.addText(start, false)
	}
	fs.addPrintfQ(u, true)
	if high {
		fs.addPrintfQ(u, false)
	}
}

// addPrintfQ adds u as bash's printf %q writes it, in a UTF-8 locale or not.
func (fs *formSet) addPrintfQ(u string, utf8Locale bool) {
	printable := func(i int) (size int, ok bool) {
		c := u[i]
		if c < utf8.RuneSelf {
			return 1, c >= 0x20 && c != 0x7f
		}
		r, size := utf8.DecodeRuneInString(u[i:])
		return size, utf8Locale && r != utf8.RuneError && unicode.IsGraphic(r)
	}
	ansiC := false
	for i := 0; i < len(u); {
		size, ok := printable(i)
		ansiC = ansiC || !ok
		i += size
	}
	start := len(fs.text)
	if !ansiC {
		for i := 0; i < len(u); i++ {
			c := u[i]
			if byteClasses[c]&classShell != 0 || i == 0 && (c == '~' || c == '#') {
				fs.text = append(fs.text, '\\')
			}
			fs.text = append(fs.text, c)
		}
		fs.addText(start, false)
		return
	}
	for i := 0; i < len(u); {
		size, ok := printable(i)
		for _, c := range []byte(u[i : i+size]) {
			switch {
			case ok && (c == '\'' || c == '\\'):
				fs.text = append(fs.text, '\\', c)
			case ok:
				fs.text = append(fs.text, c)
			case c == '\a', c == '\b', c == '\f', c == '\n', c == '\r', c == '\t', c == '\v':
				fs.text = append(fs.text, '\\', "abtnvfr"[strings.IndexByte("\a\b\t\n\v\f\r", c)])
			case c == 0x1b:
				fs.text = append(fs.text, `\E`...)
			default:
				fs.text = append(fs.text, '\\', '0'+c>>6, '0'+c>>3&7, '0'+c&7)
			}
		}
		i += size
	}
	fs.addText(start, false)
}
