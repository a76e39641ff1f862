package vault

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMergeDocuments(t *testing.T) {
	tests := []struct {
		name               string
		base, ours, theirs string
		want               string     // the merged document, sorted JSON
		conflicts          []Conflict // instead of want
	}{
		{name: "disjoint leaves",
			base: `{"db":{"user":"u","password":"p"}}`,
			ours: `{"db":{"user":"u2","password":"p"}}`, theirs: `{"db":{"user":"u","password":"p2"}}`,
			want: `{"db":{"password":"p2","user":"u2"}}`},
		{name: "added on both sides, different keys",
			base: `{}`, ours: `{"a":"1","n":{"x":"1"}}`, theirs: `{"b":"2","n":{"y":"2"}}`,
			want: `{"a":"1","b":"2","n":{"x":"1","y":"2"}}`},
		{name: "the same change on both sides",
			base: `{"a":"1","b":"1"}`, ours: `{"a":"2","b":"1"}`, theirs: `{"a":"2","b":"1"}`,
			want: `{"a":"2","b":"1"}`},
		{name: "removed on one side",
			base: `{"a":"1","b":{"c":"1"}}`, ours: `{"a":"1"}`, theirs: `{"a":"2","b":{"c":"1"}}`,
			want: `{"a":"2"}`},
		{name: "removed on both sides",
			base: `{"a":"1","b":"1"}`, ours: `{"b":"1"}`, theirs: `{"b":"2"}`,
			want: `{"b":"2"}`},
		{name: "an object replaced by a value on one side",
			base: `{"a":{"b":"1"},"c":"1"}`, ours: `{"a":"flat","c":"1"}`, theirs: `{"a":{"b":"1"},"c":"2"}`,
			want: `{"a":"flat","c":"2"}`},
		{name: "numbers keep their text",
			base: `{"big":12345678901234567890,"f":1.0,"n":1}`, ours: `{"big":12345678901234567890,"f":1.0,"n":2}`, theirs: `{"big":12345678901234567890,"f":1.0,"n":1,"t":true,"z":null}`,
			want: `{"big":12345678901234567890,"f":1.0,"n":2,"t":true,"z":null}`},
		{name: "an array changed on one side",
			base: `{"hosts":["a","b"]}`, ours: `{"hosts":["a","b","c"]}`, theirs: `{"hosts":["a","b"],"x":"1"}`,
			want: `{"hosts":["a","b","c"],"x":"1"}`},

		{name: "changed differently",
			base: `{"db":{"password":"p","user":"u"}}`, ours: `{"db":{"password":"ours","user":"u"}}`, theirs: `{"db":{"password":"theirs","user":"u2"}}`,
			conflicts: []Conflict{{Path: "db.password", Ours: Changed, Theirs: Changed}}},
		{name: "changed and removed",
			base: `{"a":"1","b":"1"}`, ours: `{"a":"2","b":"1"}`, theirs: `{"b":"1"}`,
			conflicts: []Conflict{{Path: "a", Ours: Changed, Theirs: Removed}}},
		{name: "an object removed, a value inside it changed",
			base: `{"db":{"password":"p","user":"u"}}`, ours: `{}`, theirs: `{"db":{"password":"p2","user":"u"}}`,
			conflicts: []Conflict{{Path: "db", Ours: Removed, Theirs: Changed}}},
		{name: "added with different values",
			base: `{}`, ours: `{"a":{"b":"1"},"x.y":"1"}`, theirs: `{"a":{"b":"2"},"x.y":"2"}`,
			conflicts: []Conflict{{Path: "a.b", Ours: Added, Theirs: Added}, {Path: `x\.y`, Ours: Added, Theirs: Added}}},
		{name: "an array changed differently",
			base: `{"hosts":["a"]}`, ours: `{"hosts":["a","b"]}`, theirs: `{"hosts":["c"]}`,
			conflicts: []Conflict{{Path: "hosts", Ours: Changed, Theirs: Changed}}},
		{name: "numbers differ by text",
			base: `{"n":0}`, ours: `{"n":1}`, theirs: `{"n":1.0}`,
			conflicts: []Conflict{{Path: "n", Ours: Changed, Theirs: Changed}}},
		{name: "a value on one side, an object on the other",
			base: `{"a":"1"}`, ours: `{"a":"2"}`, theirs: `{"a":{"b":"1"}}`,
			conflicts: []Conflict{{Path: "a", Ours: Changed, Theirs: Changed}}},
	}
	parse := func(s string) node {
		t.Helper()
		doc, err := decode([]byte(s), false)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		return doc
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &merger{}
			got := m.node(nil, parse(tt.base), parse(tt.ours), parse(tt.theirs))
			if diff := cmp.Diff(tt.conflicts, m.conflicts); diff != "" {
				t.Fatalf("conflicts (-want +got):\n%s", diff)
			}
			if tt.conflicts != nil {
				return
			}
			text, err := encodeDocument(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(text) != tt.want {
				t.Errorf("merged to %s, want %s", text, tt.want)
			}
			// Merging is symmetric: the other direction gives the same.
			m = &merger{}
			back, _ := encodeDocument(m.node(nil, parse(tt.base), parse(tt.theirs), parse(tt.ours)))
			if string(back) != tt.want || len(m.conflicts) > 0 {
				t.Errorf("theirs into ours merged to %s (%v), want %s", back, m.conflicts, tt.want)
			}
		})
	}
}

// sealAt seals doc (JSON) under key at time at, into dir/name.
func sealAt(t *testing.T, dir, name, doc string, key *Key, at time.Time) string {
	t.Helper()
	secrets, err := ParseJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := Seal(path, secrets, key, WithClock(func() time.Time { return at })); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMergeFiles(t *testing.T) {
	oldKey, newKey := GenerateKey(), GenerateKey()
	ring := []*Key{newKey, oldKey}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	const base = `{"db":{"password":"p","user":"u"}}`
	tests := []struct {
		name               string
		oursKey, theirsKey *Key
		oursAt, theirsAt   time.Time
		wantKey            *Key
		wantAt             time.Time
	}{
		{"same key: the older timestamp", oldKey, oldKey, t2, t1, oldKey, t1},
		{"theirs rotated: their key and time", oldKey, newKey, t1, t2, newKey, t2},
		{"ours rotated: our key and time", newKey, oldKey, t1, t2, newKey, t1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			b := sealAt(t, dir, "base.enc", base, oldKey, t0)
			o := sealAt(t, dir, "ours.enc", `{"db":{"password":"p","user":"u2"}}`, tt.oursKey, tt.oursAt)
			th := sealAt(t, dir, "theirs.enc", `{"db":{"password":"p2","user":"u"},"new":"n"}`, tt.theirsKey, tt.theirsAt)
			if err := Merge(b, o, th, ring); err != nil {
				t.Fatal(err)
			}
			v, err := Open(o, []*Key{tt.wantKey})
			if err != nil {
				t.Fatalf("the result does not open with the expected key: %v", err)
			}
			if !v.SealedAt().Equal(tt.wantAt) {
				t.Errorf("sealed at %v, want %v", v.SealedAt(), tt.wantAt)
			}
			// The plaintext itself, not a rendering of it: compact JSON
			// with sorted keys, so that versions diff line by line.
			raw, _ := os.ReadFile(o)
			plain, _, _, err := unseal(o, raw, []*Key{tt.wantKey})
			if want := `{"db":{"password":"p2","user":"u2"},"new":"n"}`; err != nil || string(plain) != want {
				t.Errorf("merged plaintext %s (%v), want %s", plain, err, want)
			}
			if names := dirNames(t, dir); len(names) != 3 {
				t.Errorf("directory holds %q, want the three versions only", names)
			}
		})
	}
}

func TestMergeConflictKeepsTheRest(t *testing.T) {
	key := GenerateKey()
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := sealAt(t, dir, "base.enc", `{"db":{"password":"base-secret"},"api":"base-token","gone":"x","old":"o"}`, key, t0)
	o := sealAt(t, dir, "ours.enc", `{"db":{"password":"ours-secret"},"api":"ours-token","added":"ours-added","old":"o","mine":"m"}`, key, t0)
	th := sealAt(t, dir, "theirs.enc", `{"api":"theirs-token","gone":"y","added":"theirs-added","stripe":{"key":"sk"}}`, key, t0)
	var events []Event
	err := Merge(b, o, th, []*Key{key}, WithAuditor(AuditorFunc(func(_ context.Context, e Event) error {
		e.Names = append([]string(nil), e.Names...)
		events = append(events, e)
		return nil
	})))
	var me *MergeError
	if !errors.As(err, &me) || !errors.Is(err, ErrConflict) {
		t.Fatalf("error %v, want a *MergeError", err)
	}
	want := []Conflict{
		{Path: "added", Ours: Added, Theirs: Added},
		{Path: "api", Ours: Changed, Theirs: Changed},
		{Path: "db", Ours: Changed, Theirs: Removed},
		{Path: "gone", Ours: Removed, Theirs: Changed},
	}
	if diff := cmp.Diff(want, me.Conflicts); diff != "" {
		t.Errorf("conflicts (-want +got):\n%s", diff)
	}
	msg := err.Error()
	for _, s := range []string{`"api" (ours changed, theirs changed)`, `"db" (ours changed, theirs removed)`, `"added" (ours added, theirs added)`, "every change of both sides that did not conflict"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not say %q", msg, s)
		}
	}
	assertNoLeak(t, "error", msg, "secret", "token", "ours-added", "theirs-added")
	// Ours holds our value at each conflict and both sides' other changes:
	// theirs added stripe.key and removed old, ours added mine.
	raw, _ := os.ReadFile(o)
	plain, _, _, err := unseal(o, raw, []*Key{key})
	if want := `{"added":"ours-added","api":"ours-token","db":{"password":"ours-secret"},"mine":"m","stripe":{"key":"sk"}}`; err != nil || string(plain) != want {
		t.Errorf("our version holds %s (%v), want %s", plain, err, want)
	}
	if names := dirNames(t, dir); len(names) != 3 {
		t.Errorf("directory holds %q, want the three versions only", names)
	}
	last := events[len(events)-1]
	if last.Op != OpMerge || !errors.Is(last.Err, ErrConflict) || !cmp.Equal(last.Names, []string{"added", "api", "db", "gone"}) {
		t.Errorf("the last audit event is %+v, want a merge with conflicts naming the paths", last)
	}
	if n := len(events); events[n-2].Op == OpMerge {
		t.Errorf("the merge was audited twice: %+v", events[n-2:])
	}
}

func TestMergeEdgeCases(t *testing.T) {
	key, other := GenerateKey(), GenerateKey()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	t.Run("empty base: both added the vault", func(t *testing.T) {
		dir := t.TempDir()
		b := filepath.Join(dir, "base")
		os.WriteFile(b, nil, 0o600)
		o := sealAt(t, dir, "ours.enc", `{"a":"1"}`, key, t0)
		th := sealAt(t, dir, "theirs.enc", `{"b":"2"}`, key, t0)
		if err := Merge(b, o, th, []*Key{key}); err != nil {
			t.Fatal(err)
		}
		v, _ := Open(o, []*Key{key})
		if got := v.Paths(); !cmp.Equal(got, []string{"a", "b"}) {
			t.Errorf("merged paths %q", got)
		}
	})
	t.Run("ours already the result: not rewritten", func(t *testing.T) {
		dir := t.TempDir()
		b := sealAt(t, dir, "base.enc", `{"a":"1"}`, key, t0)
		o := sealAt(t, dir, "ours.enc", `{"a":"2","b":"3"}`, key, t0)
		th := sealAt(t, dir, "theirs.enc", `{"a":"2"}`, key, t0.Add(time.Hour))
		before, _ := os.ReadFile(o)
		if err := Merge(b, o, th, []*Key{key}); err != nil {
			t.Fatal(err)
		}
		if after, _ := os.ReadFile(o); !bytes.Equal(before, after) {
			t.Error("our version was rewritten")
		}
	})
	t.Run("a version no key opens", func(t *testing.T) {
		dir := t.TempDir()
		b := sealAt(t, dir, "base.enc", `{"a":"1"}`, other, t0)
		o := sealAt(t, dir, "ours.enc", `{"a":"2"}`, key, t0)
		th := sealAt(t, dir, "theirs.enc", `{"b":"2"}`, key, t0)
		before, _ := os.ReadFile(o)
		err := Merge(b, o, th, []*Key{key})
		if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "cannot merge the common ancestor's version") {
			t.Fatalf("error %v, want a wrong key naming the common ancestor", err)
		}
		if after, _ := os.ReadFile(o); !bytes.Equal(before, after) {
			t.Error("our version changed")
		}
	})
}

func TestConflictMarkers(t *testing.T) {
	key := GenerateKey()
	dir := t.TempDir()
	a := sealAt(t, dir, "a.enc", `{"a":"1"}`, key, time.Now())
	b := sealAt(t, dir, "b.enc", `{"a":"2"}`, key, time.Now())
	tokA, _ := os.ReadFile(a)
	tokB, _ := os.ReadFile(b)
	for name, text := range map[string]string{
		"merge":        "<<<<<<< HEAD\n" + string(tokA) + "\n=======\n" + string(tokB) + "\n>>>>>>> feature\n",
		"diff3, CRLF":  "<<<<<<< ours\r\n" + string(tokA) + "\r\n||||||| base\r\n" + string(tokA) + "\r\n=======\r\n" + string(tokB) + "\r\n>>>>>>> theirs\r\n",
		"bare markers": "<<<<<<<\n" + string(tokA) + "\n=======\n" + string(tokB) + "\n>>>>>>>\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "credentials.enc")
			os.WriteFile(path, []byte(text), 0o600)
			_, err := Open(path, []*Key{key})
			if !errors.Is(err, ErrConflict) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v, want ErrConflict and ErrMalformed", err)
			}
			for _, s := range []string{"holds git conflict markers", "credvault git-setup", "git checkout -m " + path} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			assertNoLeak(t, "error", err.Error(), string(tokA[:20]), string(tokB[:20]))
		})
	}
	// A token that merely holds the characters is not mistaken for one.
	for _, text := range []string{"x <<<<<<< y\n>>>>>>>", ">>>>>>> a\n<<<<<<< b\n", "<<<<<<<<< a\n>>>>>>> b"} {
		if hasConflictMarkers([]byte(text)) {
			t.Errorf("%q was taken for conflict markers", text)
		}
	}
}

func TestSealedAt(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	dir := t.TempDir()
	path := sealAt(t, dir, "v.enc", `{"a":"secret-value"}`, GenerateKey(), at)
	got, err := SealedAt(path)
	if err != nil || !got.Equal(at) {
		t.Fatalf("SealedAt = %v, %v; want %v", got, err, at)
	}
	tok, _ := os.ReadFile(path)
	for name, text := range map[string]string{
		"truncated": string(tok[:len(tok)-8]),
		"plaintext": `{"a":"secret-value"}`,
		"empty":     "",
	} {
		os.WriteFile(path, []byte(text), 0o600)
		_, err := SealedAt(path)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v, want ErrMalformed", name, err)
		}
		if err != nil {
			assertNoLeak(t, "error", err.Error(), "secret-value")
		}
	}
}
