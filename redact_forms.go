package vault

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
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
	unit    int    // the index in pats of the first form of the current unit
	seen    uint64 // the bits formBit gives the unit's forms
	special []int  // the positions in the current unit of bytes URLs escape

	// forms holds the forms of the current unit once it has more than
	// fewForms of them (a long value, wrapped into many lines), so that
	// telling a new form from those before it does not take longer the
	// more there are.
	forms map[string]struct{}

	// lineBased says that the forms are for a CI runner, which masks each
	// line of output on its own: a piece of a wrapped encoding is then a
	// form alone, never joined to the line before it (see addLines).
	lineBased bool

	// units, if set, takes the forms of each unit when it is complete,
	// and the formSet starts the next one empty: a Masker keeps what it
	// needs of them, and not their text.
	units func(*formSet)
}

// addSecrets adds the forms of each secret.
func (fs *formSet) addSecrets(secrets []string) {
	for _, s := range secrets {
		fs.addSecret(s)
	}
}

// addSecret adds the forms of each unit of a secret (see eachUnit).
func (fs *formSet) addSecret(s string) {
	eachUnit(s, fs.addUnit)
}

// eachUnit calls f with each unit of a secret, each masked on its own: the
// value, the value without surrounding whitespace, and each line of a
// multi-line value (output often reaches a log line by line), each line
// without surrounding whitespace. It calls f for none of a value that the
// masking rule leaves out.
func eachUnit(s string, f func(u string)) {
	if !IsMaskable(s) {
		return
	}
	f(s)
	if t := strings.TrimSpace(s); len(t) < len(s) {
		f(t)
	}
	if strings.IndexByte(s, '\n') >= 0 || strings.IndexByte(s, '\r') >= 0 {
		for line := range strings.SplitSeq(s, "\n") {
			if l := strings.TrimSpace(line); IsMaskable(l) {
				f(l)
			}
		}
	}
}

// addUnit adds u and its encoded forms. Each escaping is added only in the
// variants that differ for u: most secrets need no escaping at all, and the
// variants of URL escaping differ only on a few characters.
func (fs *formSet) addUnit(u string) {
	if fs.units != nil {
		defer func() {
			fs.units(fs)
			fs.text, fs.pats = fs.text[:0], fs.pats[:0]
		}()
	}
	fs.unit, fs.forms, fs.seen = len(fs.pats), nil, 0
	start := len(fs.text)
	fs.text = append(fs.text, u...)
	fs.add(start, len(u), false)

	fs.addBase64(u, false)
	fs.addBase64(u, true)
	fs.addHex(u)

	var has byteClass
	fs.special = fs.special[:0]
	for i := 0; i < len(u); i++ {
		c := byteClasses[u[i]]
		has |= c
		if c&classURL != 0 {
			fs.special = append(fs.special, i)
		}
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
		if has&(classJS|classURIReserved) != 0 {
			fs.addURL(u, &urlURIKeep, 0) // JavaScript's encodeURI
		}
	}
	if has&(classHTML|classSpaceControl) != 0 {
		for _, e := range markups {
			if !e.breaks || has&classSpaceControl != 0 {
				fs.addEscaped(u, e.escaping, e.derived)
			}
		}
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
	fs.addLiterals(u, has)
	if has&classShell != 0 || u[0] == '~' || u[0] == '#' {
		fs.addShell(u, has)
	}
}

// A byteClass says which escapings change a byte.
type byteClass uint32

const (
	classURL          byteClass = 1 << iota // not unreserved in URLs
	classSpace                              // ' ', which URL escapers differ on
	classSlash                              // '/', which Python's quote keeps
	classJS                                 // kept by encodeURIComponent
	classGoPath                             // kept by Go's PathEscape
	classURIReserved                        // kept by encodeURI, not by encodeURIComponent
	classHTML                               // escaped in HTML and XML
	classSpaceControl                       // tab, CR, LF: escaped in XML attributes, and in XML text by Go
	classJSON                               // escaped by every JSON encoder
	classHigh                               // DEL and beyond ASCII: escaped by some JSON encoders
	classBF                                 // backspace and form feed, which JSON encoders differ on
	classShell                              // escaped by printf %q
	classControl                            // control characters and DEL, escaped in string literals
	classBackslash                          // '\', escaped in string literals
	classDoubleQuote                        // '"'
	classSingleQuote                        // '\''
	classDollar                             // '$' and '`', escaped by bash in double quotes
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
			t[c] |= classShell | classControl
		}
	}
	set(classSpace, " ")
	set(classSlash, "/")
	set(classJS, "!*'()")
	set(classGoPath, "$&+:=@")
	set(classURIReserved, ";,/?:@&=+$#")
	set(classHTML, `&<>"'`)
	set(classSpaceControl, "\t\n\r")
	set(classJSON, `"\`)
	set(classBF, "\b\f")
	set(classShell, " !\"$&'()*,;<>?[\\]^`{|}")
	set(classBackslash, `\`)
	set(classDoubleQuote, `"`)
	set(classSingleQuote, `'`)
	set(classDollar, "$`")
	return t
}()

// fewForms is the number of forms of a unit up to which add compares a new
// form with each of them; beyond, it looks it up in a map.
const fewForms = 32

// add records text[off:off+n] as a form, unless it is too short or the
// current unit already has it; derived says whether the GitHub runner
// derives it by itself.
func (fs *formSet) add(off, n int, derived bool) bool {
	if n < MinSecretLen {
		return false
	}
	form := fs.text[off : off+n]
	if fs.forms != nil {
		if _, dup := fs.forms[string(form)]; dup {
			return false
		}
		fs.forms[unsafe.String(&form[0], n)] = struct{}{}
	} else if fs.seen&formBit(form) != 0 { // else it repeats no form of the unit
		for _, p := range fs.pats[fs.unit:] {
			if int(p.n) == n && string(fs.text[p.off:p.off+p.n]) == string(form) {
				return false
			}
		}
	}
	if fs.forms == nil {
		fs.seen |= formBit(form)
		if len(fs.pats)-fs.unit == fewForms {
			// The keys are the bytes of text, which stay as they are
			// once a form is kept (text only grows past them, or moves
			// to a larger array and leaves them be).
			fs.forms = make(map[string]struct{}, 2*fewForms)
			for _, p := range fs.pats[fs.unit:] {
				fs.forms[unsafe.String(&fs.text[p.off], p.n)] = struct{}{}
			}
			fs.forms[unsafe.String(&form[0], n)] = struct{}{}
		}
	}
	fs.pats = append(fs.pats, span{uint32(off), uint32(n)})
	if fs.derived != nil {
		fs.derived = append(fs.derived, derived)
	}
	return true
}

// grow extends fs.text by n bytes, to be written. It assigns fs.text anew
// only when it must move: forms are made while the garbage collector may be
// marking, when every pointer written costs a write barrier.
func (fs *formSet) grow(n int) {
	if cap(fs.text)-len(fs.text) < n {
		fs.text = slices.Grow(fs.text, n)
	}
	fs.text = fs.text[:len(fs.text)+n]
}

// formBit returns a bit of 64 chosen by a form's length and first bytes:
// forms with different bits differ.
func formBit(form []byte) uint64 {
	key := uint64(len(form))
	if len(form) >= 8 {
		key ^= binary.LittleEndian.Uint64(form)
	}
	return 1 << (key * 0x9E3779B97F4A7C15 >> 58)
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
//
// With wide, the secret is encoded in UTF-16LE first, as PowerShell's
// -EncodedCommand takes a command: there the secret is inside a longer
// command, at any alignment, in the standard alphabet, on one line.
func (fs *formSet) addBase64(u string, wide bool) {
	// raw is the bytes to encode behind two zero bytes, made once: at
	// shift s, the secret follows s unknown bytes, raw[2-s:].
	// UTF-16 of ASCII is encoded from u itself (encodeWideASCII).
	raw := append(fs.scratch[:0], 0, 0)
	ascii := wide && isASCII(u)
	switch {
	case ascii:
	case wide:
		raw = appendUTF16LE(raw, u)
	default:
		raw = append(raw, u...)
	}
	for shift := range 3 {
		src := raw[2-shift:]
		size := len(src)
		if ascii {
			size = shift + 2*len(u)
		}
		n := base64.StdEncoding.EncodedLen(size)
		// Characters before skip hold bits of the unknown bytes in front;
		// characters from bitsEnd on, bits of the unknown bytes behind,
		// except in a whole encoding, which ends where the secret does.
		skip := []int{0, 2, 3}[shift]
		bitsEnd := (8 * size) / 6
		end := bitsEnd
		if shift == 0 {
			end = n
		}
		start := len(fs.text)
		fs.grow(n)
		if ascii {
			encodeWideASCII(fs.text[start:], u, shift)
		} else {
			encodeBase64(fs.text[start:], src)
		}
		n = copy(fs.text[start:], fs.text[start+skip:start+end])
		fs.text = fs.text[:start+n]
		fs.addEncoded(start, skip, end, bitsEnd, !wide, !wide)
		if std := fs.text[start : start+end-skip]; !wide && (bytes.IndexByte(std, '+') >= 0 || bytes.IndexByte(std, '/') >= 0) {
			start := len(fs.text)
			fs.text = append(fs.text, std...)
			url := fs.text[start:]
			for i, c := range url {
				switch c {
				case '+':
					url[i] = '-'
				case '/':
					url[i] = '_'
				}
			}
			fs.addEncoded(start, skip, end, bitsEnd, false, true)
		}
	}
	fs.scratch = raw[:0]
}

// encodeBase64 writes src to dst as base64.StdEncoding.Encode does, with
// one table lookup per two characters rather than per character.
func encodeBase64(dst, src []byte) {
	for len(src) >= 3 && len(dst) >= 4 {
		binary.LittleEndian.PutUint32(dst, uint32(base64Pairs[uint(src[0])<<4|uint(src[1])>>4])|
			uint32(base64Pairs[uint(src[1]&15)<<8|uint(src[2])])<<16)
		src, dst = src[3:], dst[4:]
	}
	base64.StdEncoding.Encode(dst, src)
}

// base64Alphabet is the standard base64 alphabet.
const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// base64Pairs holds the two base64 characters of every 12 bits, as they read
// in memory.
var base64Pairs = func() (t [1 << 12]uint16) {
	for i := range t {
		t[i] = uint16(base64Alphabet[i>>6]) | uint16(base64Alphabet[i&63])<<8
	}
	return t
}()

// isASCII reports whether u is all ASCII.
func isASCII(u string) bool {
	for i := 0; i < len(u); i++ {
		if u[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// encodeWideASCII writes to dst what base64.StdEncoding.Encode writes for
// u in UTF-16LE behind shift zero bytes, u being ASCII, without making
// those bytes: they come in groups of three, each a byte of u, a zero and
// a byte of u, or a zero, a byte of u and a zero, whose four characters
// come from tables. The wide forms are two thirds of a secret's base64,
// and this takes a fraction of the time.
func encodeWideASCII(dst []byte, u string, shift int) {
	// The groups the zeros in front start, after which u[i:] is in
	// groups from a byte of u on.
	i := 0
	switch {
	case shift == 1 && len(u) >= 1: // 0, u[0], 0
		binary.LittleEndian.PutUint32(dst, wideMiddle[u[0]])
		dst, i = dst[4:], 1
	case shift == 2 && len(u) >= 2: // 0, 0, u[0]; 0, u[1], 0
		binary.LittleEndian.PutUint32(dst, wideEven[0]|wideOdd[u[0]])
		binary.LittleEndian.PutUint32(dst[4:], wideMiddle[u[1]])
		dst, i = dst[8:], 2
	case shift != 0: // u is shorter than shift: at most 4 bytes, kept off the heap
		var short [4]byte
		base64.StdEncoding.Encode(dst, appendUTF16LE(short[:shift], u))
		return
	}
	// u[i], 0, u[i+1]; 0, u[i+2], 0: eight characters per three bytes of u.
	for ; i+3 <= len(u); i += 3 {
		binary.LittleEndian.PutUint64(dst, uint64(wideEven[u[i]]|wideOdd[u[i+1]])|uint64(wideMiddle[u[i+2]])<<32)
		dst = dst[8:]
	}
	var tail [4]byte
	base64.StdEncoding.Encode(dst, appendUTF16LE(tail[:0], u[i:]))
}

// The characters, as they read in memory, of a group of three bytes of
// UTF-16LE ASCII: wideEven[x]|wideOdd[y] those of x, 0, y, and
// wideMiddle[z] those of 0, z, 0. (Indexed by any byte, so that indexing
// needs no check; only ASCII is used.)
var wideEven, wideOdd, wideMiddle = func() (even, odd, middle [256]uint32) {
	for c := range utf8.RuneSelf {
		even[c] = uint32(base64Alphabet[c>>2]) | uint32(base64Alphabet[(c&3)<<4])<<8
		odd[c] = uint32(base64Alphabet[c>>6])<<16 | uint32(base64Alphabet[c&63])<<24
		middle[c] = 'A' | uint32(base64Alphabet[c>>4])<<8 | uint32(base64Alphabet[(c&15)<<2])<<16 | 'A'<<24
	}
	return
}()

// appendUTF16LE appends u in UTF-16, little-endian; a byte that is not
// UTF-8 becomes U+FFFD, as in any conversion to UTF-16.
func appendUTF16LE(b []byte, u string) []byte {
	for _, r := range u {
		if r < 0x10000 {
			b = append(b, byte(r), byte(r>>8))
			continue
		}
		hi, lo := utf16.EncodeRune(r)
		b = append(b, byte(hi), byte(hi>>8), byte(lo), byte(lo>>8))
	}
	return b
}

// addEncoded records the forms of one encoding, stored at text[start:] as
// the characters skip to end of the encoded stream: the whole of it, the
// part before bitsEnd if shorter (a whole encoding without its last
// characters and padding, as it reads inside a longer one), and, if wrapped,
// the piece of the secret on each line as base64 and openssl base64 wrap
// it. std says whether the encoding uses the standard alphabet, whose forms
// the GitHub runner derives itself.
func (fs *formSet) addEncoded(start, skip, end, bitsEnd int, std, wrapped bool) {
	fs.add(start, end-skip, std)
	if bitsEnd < end {
		fs.add(start, bitsEnd-skip, std)
	}
	if wrapped {
		fs.addLines(start, skip, end, 76)
		fs.addLines(start, skip, end, 64)
	}
}

// minPiece is the length under which the last piece of a wrapped encoding
// is masked joined to the line before it: "...\nab==" rather than "ab==".
// A pattern that short would shorten the skip of the scan for every byte
// of output (see skipTable), and alone it would mask the same few
// characters wherever they appear. Joined, it is masked where the tool
// wrote it; a CI runner, which masks each line alone, gets it alone.
const minPiece = maxWindow

// addLines adds the pieces of an encoding, stored at text[start:] as the
// characters skip to end of the encoded stream, that fall on each line when
// the stream is wrapped at width columns.
func (fs *formSet) addLines(start, skip, end, width int) {
	if end <= width {
		return
	}
	for lo := 0; lo < end; lo += width {
		from, to := max(lo, skip), min(lo+width, end)
		if to-from >= minPiece || fs.lineBased || from == skip {
			fs.add(start+from-skip, to-from, false)
			continue
		}
		joined := len(fs.text)
		fs.text = append(fs.text, fs.text[start+max(lo-width, skip)-skip:start+from-skip]...)
		fs.text = append(fs.text, '\n')
		fs.text = append(fs.text, fs.text[start+from-skip:start+to-skip]...)
		fs.addText(joined, false)
	}
}

// addHex adds u in hexadecimal, as xxd -p, od-less dumps and most
// languages' hex functions write it: in lower case, whole and as xxd -p
// wraps it at 60 columns, and in upper case (xxd -u -p, .NET, %X).
func (fs *formSet) addHex(u string) {
	for upper, digits := range &hexDigits {
		start := len(fs.text)
		fs.grow(2 * len(u))
		hex, i := fs.text[start:], 0
		for ; i+4 <= len(u); i += 4 {
			binary.LittleEndian.PutUint64(hex[2*i:], uint64(digits[u[i]])|uint64(digits[u[i+1]])<<16|
				uint64(digits[u[i+2]])<<32|uint64(digits[u[i+3]])<<48)
		}
		for ; i < len(u); i++ {
			binary.LittleEndian.PutUint16(hex[2*i:], digits[u[i]])
		}
		fs.add(start, 2*len(u), false)
		if upper == 0 {
			fs.addLines(start, 0, 2*len(u), 60)
		}
	}
}

// hexDigits holds the two hex digits of each byte, in lower and in upper
// case, as they read in memory (little-endian).
var hexDigits = func() (t [2][256]uint16) {
	for c := range 256 {
		for i, digits := range []string{"0123456789abcdef", "0123456789ABCDEF"} {
			t[i][c] = uint16(digits[c>>4]) | uint16(digits[c&15])<<8
		}
	}
	return t
}()

// URL escaping: the bytes each tool leaves as they are. All of them write
// upper-case hex digits (checked against each tool in the tests).

var (
	urlQueryKeep  = urlKeep("")
	urlPythonKeep = urlKeep("/")
	urlJSKeep     = urlKeep("!*'()")
	urlGoPathKeep = urlKeep("$&+:=@")
	urlURIKeep    = urlKeep("!*'();,/?:@&=+$#")
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
// is not 0, anything else as %XX. Only the bytes at fs.special, those that
// every URL escaper may escape, are looked at.
func (fs *formSet) addURL(u string, keep *[256]bool, space byte) {
	const hex = "0123456789ABCDEF"
	start, kept := len(fs.text), 0
	for _, i := range fs.special {
		switch c := u[i]; {
		case keep[c]:
			continue
		case c == ' ' && space != 0:
			fs.text = append(fs.text, u[kept:i]...)
			fs.text = append(fs.text, space)
		default:
			fs.text = append(fs.text, u[kept:i]...)
			fs.text = append(fs.text, '%', hex[c>>4], hex[c&15])
		}
		kept = i + 1
	}
	fs.text = append(fs.text, u[kept:]...)
	fs.addText(start, space == 0 && keep == &urlQueryKeep)
}

// An escaping writes some bytes as other text, and the rest as they are.
type escaping struct {
	index [256]uint8 // 0: the byte as it is; i: to[i-1]
	to    []string
}

// escape returns the escaping that writes each byte of pairs[0], pairs[2],
// ... as pairs[1], pairs[3], ...
func escape(pairs ...string) *escaping {
	e := &escaping{}
	for i := 0; i+1 < len(pairs); i += 2 {
		e.to = append(e.to, pairs[i+1])
		e.index[pairs[i][0]] = uint8(len(e.to))
	}
	return e
}

// addEscaped adds u escaped by e.
func (fs *formSet) addEscaped(u string, e *escaping, derived bool) {
	start := len(fs.text)
	for i := 0; i < len(u); i++ {
		if x := e.index[u[i]]; x != 0 {
			fs.text = append(fs.text, e.to[x-1]...)
		} else {
			fs.text = append(fs.text, u[i])
		}
	}
	fs.addText(start, derived)
}

// markups are the HTML and XML escapers: "&", "<" and ">" as entities, and
// quotes, tabs and line breaks as each writes them (checked against each
// tool in the tests). The first is XML as the GitHub runner masks it.
// Those that escape tabs and line breaks differ from the others only for a
// value that holds them.
var markups = []struct {
	*escaping
	breaks  bool // tabs and line breaks escaped
	derived bool
}{
	{markup(`&quot;`, `&apos;`, ""), false, true},  // XML (.NET's SecurityElement.Escape)
	{markup(`&quot;`, `&#x27;`, ""), false, false}, // Python's html.escape
	{markup(`&#34;`, `&#39;`, ""), false, false},   // Go's html.EscapeString and templates
	{markup(`"`, `'`, ""), false, false},           // text: html.escape(quote=False), saxutils.escape
	{markup(`&quot;`, `'`, ""), false, false},      // attributes: ElementTree, saxutils.quoteattr
	{markup(`&#34;`, `&#39;`, "x"), true, false},   // Go's xml.EscapeText: &#x9; &#xA; &#xD;
	{markup(`&quot;`, `'`, "%02d"), true, false},   // ElementTree's attributes: &#09; &#10; &#13;
	{markup(`&quot;`, `'`, "%d"), true, false},     // saxutils.quoteattr: &#9; &#10; &#13;
	{markup(`"`, `'`, "%d"), true, false},          // quoteattr of a value with " but not '
}

// markup returns the escaping of HTML and XML, with quot and apos for the
// quotes and, if refs is set, character references for tab, LF and CR:
// "x" for hex digits, or a decimal format.
func markup(quot, apos, refs string) *escaping {
	pairs := []string{"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, quot, "'", apos}
	for _, c := range "\t\n\r" {
		switch refs {
		case "":
		case "x":
			pairs = append(pairs, string(c), fmt.Sprintf("&#x%X;", c))
		default:
			pairs = append(pairs, string(c), fmt.Sprintf("&#"+refs+";", c))
		}
	}
	return escape(pairs...)
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

// The literals of programming languages and data formats, other than JSON
// (checked against each tool in the tests).
var (
	perlSingle   = escape(`\`, `\\`, `'`, `\'`)                        // Perl's Data::Dumper, PHP's var_export
	doubledQuote = escape(`"`, `""`)                                   // CSV: Python's csv, jq's @csv, spreadsheets
	doubledApos  = escape(`'`, `''`)                                   // YAML's single quotes, SQL
	posixSingle  = escape(`'`, `'\''`)                                 // shell single quotes: set -x, this package's shell export
	shlexSingle  = escape(`'`, `'"'"'`)                                // Python's shlex.quote and shlex.join
	bashDouble   = escape(`\`, `\\`, `"`, `\"`, `$`, `\$`, "`", "\\`") // bash's declare -p and export -p
)

// addLiterals adds u as string literals write it: Python's repr (print of
// a dict or a list), ascii() and unicode_escape; Perl's Data::Dumper;
// PyYAML's double and single quotes; CSV.
func (fs *formSet) addLiterals(u string, has byteClass) {
	bothQuotes := has&classDoubleQuote != 0 && has&classSingleQuote != 0
	if has&(classBackslash|classControl|classHigh) != 0 || bothQuotes {
		// repr quotes with ' unless only ' is in the value, and escapes '
		// only where it quotes with it and the value holds both.
		var quote byte
		if bothQuotes {
			quote = '\''
		}
		fs.addPython(u, quote, false) // repr
		if has&classHigh != 0 {
			fs.addPython(u, quote, true) // ascii()
		}
		if has&classHigh != 0 || bothQuotes {
			fs.addPython(u, 0, true) // unicode_escape
		}
	}
	if has&(classControl|classHigh) != 0 {
		fs.addYAML(u, false) // yaml.dump
		fs.addYAML(u, true)  // yaml.dump(allow_unicode=True)
	}
	if has&(classSingleQuote|classBackslash) != 0 {
		fs.addEscaped(u, perlSingle, false)
	}
	if has&classSingleQuote != 0 {
		fs.addEscaped(u, doubledApos, false)
	}
	if has&classDoubleQuote != 0 {
		fs.addEscaped(u, doubledQuote, false)
	}
}

// addPython adds u as Python writes a str: the repr, which print writes for
// a dict, a list or os.environ, keeps printable characters (asciiOnly
// false); ascii() and the unicode_escape codec escape all beyond ASCII.
// quote, if not 0, is escaped with a backslash. A byte that is not UTF-8
// reads as Python's surrogate escape of it (os.environ's), \udcXX.
func (fs *formSet) addPython(u string, quote byte, asciiOnly bool) {
	const hex = "0123456789abcdef"
	start := len(fs.text)
	for i := 0; i < len(u); {
		r, size := rune(u[i]), 1
		if r >= utf8.RuneSelf {
			if r, size = utf8.DecodeRuneInString(u[i:]); r == utf8.RuneError && size == 1 {
				r = 0xdc00 + rune(u[i])
			}
		}
		i += size
		switch {
		case r == '\\' || quote != 0 && r == rune(quote):
			fs.text = append(fs.text, '\\', byte(r))
		case r == '\t':
			fs.text = append(fs.text, `\t`...)
		case r == '\n':
			fs.text = append(fs.text, `\n`...)
		case r == '\r':
			fs.text = append(fs.text, `\r`...)
		case r < utf8.RuneSelf && r >= 0x20 && r != 0x7f,
			!asciiOnly && r >= utf8.RuneSelf && (r < 0xd800 || r > 0xdfff) && unicode.IsPrint(r):
			fs.text = utf8.AppendRune(fs.text, r)
		case r < 0x100:
			fs.text = append(fs.text, '\\', 'x', hex[r>>4], hex[r&15])
		case r < 0x10000:
			fs.text = append(fs.text, '\\', 'u', hex[r>>12], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		default:
			fs.text = append(fs.text, '\\', 'U', '0', '0', '0', hex[r>>16&15], hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		}
	}
	fs.addText(start, false)
}

// yamlEscapes are the short escapes of YAML's double-quoted style.
var yamlEscapes = map[rune]string{
	0: `\0`, '\a': `\a`, '\b': `\b`, '\t': `\t`, '\n': `\n`, '\v': `\v`, '\f': `\f`, '\r': `\r`, 0x1b: `\e`,
	'"': `\"`, '\\': `\\`, 0x85: `\N`, 0xa0: `\_`, 0x2028: `\L`, 0x2029: `\P`,
}

// addYAML adds u as PyYAML writes a value with characters beyond ASCII or
// control characters: double-quoted, with YAML's escapes and upper-case hex
// digits. Without allowUnicode (yaml.dump's default) everything beyond
// ASCII is escaped; with it, the characters of the Basic Multilingual Plane
// that YAML allows are written as they are.
func (fs *formSet) addYAML(u string, allowUnicode bool) {
	const hex = "0123456789ABCDEF"
	start := len(fs.text)
	for i := 0; i < len(u); {
		r, size := utf8.DecodeRuneInString(u[i:])
		if r == utf8.RuneError && size == 1 {
			r = 0xdc00 + rune(u[i])
		}
		i += size
		plain := 0x20 <= r && r <= 0x7e && r != '"' && r != '\\' ||
			allowUnicode && (0xa0 <= r && r <= 0xd7ff || 0xe000 <= r && r <= 0xfffd) && r != 0x2028 && r != 0x2029 && r != 0xfeff
		switch e, short := yamlEscapes[r]; {
		case plain:
			fs.text = utf8.AppendRune(fs.text, r)
		case short:
			fs.text = append(fs.text, e...)
		case r < 0x100:
			fs.text = append(fs.text, '\\', 'x', hex[r>>4], hex[r&15])
		case r < 0x10000:
			fs.text = append(fs.text, '\\', 'u', hex[r>>12], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		default:
			fs.text = append(fs.text, '\\', 'U', '0', '0', '0', hex[r>>16&15], hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		}
	}
	fs.addText(start, false)
}

// addShell adds the shell-quoted forms of u: the inside of single quotes,
// a "'" written '\” (the shell exporters, and bash's set -x trace) or
// '"'"' (Python's shlex.quote); the inside of bash's double quotes
// (declare -p, export -p); and what bash's printf %q writes, with
// backslashes or, for a value with characters it does not print, as $'...'
// (as declare -p does then too), in a UTF-8 locale and, if u has bytes
// beyond ASCII, in the C locale (where every non-ASCII byte is one it does
// not print; the two agree on ASCII).
func (fs *formSet) addShell(u string, has byteClass) {
	if has&classSingleQuote != 0 {
		fs.addEscaped(u, posixSingle, false)
		fs.addEscaped(u, shlexSingle, false)
	}
	if has&(classBackslash|classDoubleQuote|classDollar) != 0 {
		fs.addEscaped(u, bashDouble, false)
	}
	fs.addPrintfQ(u, true)
	if has&classHigh != 0 {
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
