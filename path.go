package vault

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A credential path names one value in a vault's document: object keys
// separated by dots, "database.password". A backslash escapes a dot or a
// backslash that is part of a key: "servers.db\.example\.com.password" is
// the key "db.example.com" inside "servers". Below an array, a segment is the
// element's index in decimal without leading zeros: "hosts.0".
//
// A segment cannot be empty, so a key that is the empty string cannot be
// named; no other key is out of reach.

// parsePath splits a credential path into its segments, unescaped.
func parsePath(p string) ([]string, error) {
	if p == "" {
		return nil, errors.New("the credential path is empty: name a value, such as database.password")
	}
	var (
		segs []string
		seg  strings.Builder
	)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '.':
			if seg.Len() == 0 {
				return nil, fmt.Errorf("the credential path %q has an empty segment before byte %d: remove the extra dot", p, i+1)
			}
			segs = append(segs, seg.String())
			seg.Reset()
		case '\\':
			if i+1 == len(p) || p[i+1] != '.' && p[i+1] != '\\' {
				return nil, fmt.Errorf("the credential path %q has a backslash at byte %d that escapes nothing: write \\. for a dot and \\\\ for a backslash inside a key", p, i+1)
			}
			i++
			seg.WriteByte(p[i])
		default:
			seg.WriteByte(c)
		}
	}
	if seg.Len() == 0 {
		return nil, fmt.Errorf("the credential path %q ends with a dot: remove it", p)
	}
	return append(segs, seg.String()), nil
}

// formatPath joins segments into a credential path, escaping dots and
// backslashes inside them. It is the inverse of parsePath.
func formatPath(segs []string) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('.')
		}
		for j := 0; j < len(s); j++ {
			if s[j] == '.' || s[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[j])
		}
	}
	return b.String()
}

// lookup follows segs from doc. When the path leads nowhere it returns a
// *NotFoundError describing where it stopped, by names and JSON kinds only.
func lookup(name, path string, doc node, segs []string) (node, error) {
	n := doc
	for i, seg := range segs {
		notFound := func(format string, args ...any) error {
			return &NotFoundError{Vault: name, Path: path, At: formatPath(segs[:i]), Missing: seg, reason: fmt.Sprintf(format, args...)}
		}
		here := "the top level"
		if i > 0 {
			here = strconv.Quote(formatPath(segs[:i]))
		}
		switch n.kind() {
		case kindObject:
			v, ok := n.member(seg)
			if !ok {
				return node{}, notFound("%s has no key %q; it has %s", here, seg, listNames(n.keys()))
			}
			n = v
		case kindArray:
			idx, ok := parseIndex(seg)
			if !ok {
				return node{}, notFound("%s is an array, so %q must be an index from 0 to %d", here, seg, n.len()-1)
			}
			if idx >= n.len() {
				return node{}, notFound("%s is an array of %d elements, so there is no index %d", here, n.len(), idx)
			}
			n = n.elems()[idx]
		default:
			return node{}, notFound("%s is a %s, which has nothing inside it", here, n.kindName())
		}
	}
	return n, nil
}

// parseIndex parses an array index: decimal digits without a sign or a
// leading zero.
func parseIndex(s string) (int, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}
