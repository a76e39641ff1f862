package vault

import (
	"encoding/json"
	"slices"
	"strings"
	"unsafe"
)

// A node is one value of a vault's document, as the package holds it: a
// string, a number (its exact text), a boolean, null, an object or an
// array, in 16 bytes and with no allocation of its own. A string's or a
// number's text is where the decoder found it (in the decrypted buffer,
// unless it held escapes); an object is its members, sorted by key, each
// key once; an array is its elements. The zero node is null.
//
// It replaces map[string]any inside the package: a vault of 100,000 short
// values in small objects costs a Go map of 8 slots and a boxed string per
// value that way, several times the file's size; as nodes it costs its
// members. The public API still hands out map[string]any ([ParseJSON]) and
// takes any Go value ([Seal], [Tx.Set]): toAny and normalize convert.
type node struct {
	ptr  unsafe.Pointer // the text's first byte, or the first member or element; nil when empty
	bits uint64         // the kind in the top byte, the length (of the text, or in members or elements) below
}

// A member is one key of an object and its value.
type member struct {
	key string
	val node
}

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindString
	kindNumber
	kindObject
	kindArray
	// kindAbsent stands, in a merge, for a key that a version does not
	// have; no document holds it.
	kindAbsent
)

const kindShift = 56

func makeNode(k kind, ptr unsafe.Pointer, n int) node {
	if n == 0 {
		ptr = nil
	}
	return node{ptr: ptr, bits: uint64(k)<<kindShift | uint64(n)}
}

func stringNode(s string) node {
	return makeNode(kindString, unsafe.Pointer(unsafe.StringData(s)), len(s))
}

// numberNode holds s, which must be a number in JSON's grammar.
func numberNode(s string) node {
	return makeNode(kindNumber, unsafe.Pointer(unsafe.StringData(s)), len(s))
}

func boolNode(b bool) node {
	if b {
		return node{bits: uint64(kindBool)<<kindShift | 1}
	}
	return node{bits: uint64(kindBool) << kindShift}
}

// objectNode holds members, which must be sorted by key with no key twice.
func objectNode(members []member) node {
	return makeNode(kindObject, unsafe.Pointer(unsafe.SliceData(members)), len(members))
}

func arrayNode(elems []node) node {
	return makeNode(kindArray, unsafe.Pointer(unsafe.SliceData(elems)), len(elems))
}

var absentNode = node{bits: uint64(kindAbsent) << kindShift}

func (n node) kind() kind { return kind(n.bits >> kindShift) }
func (n node) len() int   { return int(n.bits & (1<<kindShift - 1)) }

// text returns a string's or a number's text.
func (n node) text() string {
	if n.ptr == nil {
		return ""
	}
	return unsafe.String((*byte)(n.ptr), n.len())
}

func (n node) boolean() bool { return n.len() == 1 }

// members returns an object's members, sorted by key. Changing a member's
// value changes the object; the slice's capacity is its length.
func (n node) members() []member {
	if n.ptr == nil {
		return nil
	}
	return unsafe.Slice((*member)(n.ptr), n.len())
}

// elems returns an array's elements. Changing one changes the array.
func (n node) elems() []node {
	if n.ptr == nil {
		return nil
	}
	return unsafe.Slice((*node)(n.ptr), n.len())
}

func (n node) isContainer() bool { k := n.kind(); return k == kindObject || k == kindArray }

// kindName names the JSON kind of a node, for messages.
func (n node) kindName() string {
	switch n.kind() {
	case kindObject:
		return "object"
	case kindArray:
		return "array"
	case kindString:
		return "string"
	case kindNumber:
		return "number"
	case kindBool:
		return "boolean"
	}
	return "null"
}

func compareMembers(a, b member) int { return strings.Compare(a.key, b.key) }

// find returns the position of key among an object's members, or where it
// would go, and whether it is there.
func (n node) find(key string) (int, bool) {
	return slices.BinarySearchFunc(n.members(), key, func(m member, k string) int { return strings.Compare(m.key, k) })
}

// member returns an object's value at key.
func (n node) member(key string) (node, bool) {
	i, ok := n.find(key)
	if !ok {
		return node{}, false
	}
	return n.members()[i].val, true
}

// keys returns an object's keys, sorted.
func (n node) keys() []string {
	ms := n.members()
	keys := make([]string, len(ms))
	for i, m := range ms {
		keys[i] = m.key
	}
	return keys
}

// setMember sets key to val in the object *n, adding the key if it is not
// there (in a new array of members: others holding the old node do not see
// the new key).
func (n *node) setMember(key string, val node) {
	i, ok := n.find(key)
	if ok {
		n.members()[i].val = val
		return
	}
	*n = objectNode(slices.Insert(slices.Clone(n.members()), i, member{key, val}))
}

// deleteMember removes key from the object *n, if it is there.
func (n *node) deleteMember(key string) {
	if i, ok := n.find(key); ok {
		*n = objectNode(slices.Delete(slices.Clone(n.members()), i, i+1))
	}
}

// scalarText returns a scalar's text as Get gives it: strings raw, numbers as
// written, booleans as true and false, null as the empty string. For objects
// and arrays it returns false.
func scalarText(n node) (string, bool) {
	switch n.kind() {
	case kindString, kindNumber:
		return n.text(), true
	case kindBool:
		if n.boolean() {
			return "true", true
		}
		return "false", true
	case kindNull:
		return "", true
	}
	return "", false
}

// countLeaves returns the number of scalars at or below n.
func countLeaves(n node) int {
	switch n.kind() {
	case kindObject:
		total := 0
		for _, m := range n.members() {
			total += countLeaves(m.val)
		}
		return total
	case kindArray:
		total := 0
		for _, x := range n.elems() {
			total += countLeaves(x)
		}
		return total
	}
	return 1
}

// sameNode reports whether two nodes (or absent) are equal: the same JSON
// kinds with the same contents, numbers compared by their text.
func sameNode(a, b node) bool {
	if a.bits != b.bits { // the kind and the length
		return false
	}
	switch a.kind() {
	case kindString, kindNumber:
		return a.text() == b.text()
	case kindObject:
		bm := b.members()
		for i, m := range a.members() {
			if m.key != bm[i].key || !sameNode(m.val, bm[i].val) {
				return false
			}
		}
		return true
	case kindArray:
		return slices.EqualFunc(a.elems(), b.elems(), sameNode)
	}
	return true // null, a boolean (its value is in bits), absent
}

// toAny returns n as the Go values encoding/json gives with UseNumber:
// map[string]any, []any, string, json.Number, bool and nil. Its strings
// share n's memory.
func toAny(n node) any {
	switch n.kind() {
	case kindObject:
		m := make(map[string]any, n.len())
		for _, x := range n.members() {
			m[x.key] = toAny(x.val)
		}
		return m
	case kindArray:
		a := make([]any, n.len())
		for i, x := range n.elems() {
			a[i] = toAny(x)
		}
		return a
	case kindString:
		return n.text()
	case kindNumber:
		return json.Number(n.text())
	case kindBool:
		return n.boolean()
	}
	return nil
}
