package vault

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recorder is an Auditor that keeps what it is given, and fails with fail
// when set.
type recorder struct {
	mu     sync.Mutex
	events []Event
	fail   error
}

func (r *recorder) Audit(_ context.Context, e Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.Names = slices.Clone(e.Names)
	r.events = append(r.events, e)
	return r.fail
}

// summary renders events as "op path key_index seal_key? outcome[ error class]".
func (r *recorder) summary() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		s := fmt.Sprintf("%s %q %d", e.Op, e.Path, e.KeyIndex)
		if e.SealKey != "" {
			s += " sealed"
		}
		s += " " + e.Outcome()
		for _, class := range []error{ErrWrongKey, ErrNotFound, ErrExpired, ErrMalformed, ErrLocked} {
			if errors.Is(e.Err, class) {
				s += " " + strings.TrimPrefix(class.Error(), "vault: ")
			}
		}
		out = append(out, s)
	}
	r.events = nil
	return out
}

func TestAuditEvents(t *testing.T) {
	key, other := GenerateKey(), GenerateKey()
	rec := &recorder{}
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	pipeline := Pipeline{Platform: "github-actions", RunID: "42"}
	opts := Options(WithAuditor(rec), WithClock(func() time.Time { return at }), WithPipeline(pipeline), WithKeySource("MASTER_KEY"))
	path := sealSeed(t, key, opts)
	rec.summary()

	tests := []struct {
		name string
		do   func() error
		want []string
	}{
		{"open", func() error { _, err := Open(path, []*Key{other, key}, opts); return err },
			[]string{`open "" 1 ok`}},
		{"open with a wrong key", func() error { _, err := Open(path, []*Key{other}, opts); return err },
			[]string{`open "" -1 error wrong key`}},
		{"open a missing file", func() error { _, err := Open(path+".nope", []*Key{key}, opts); return err },
			[]string{`open "" -1 error`}},
		{"open expired", func() error {
			_, err := Open(path, []*Key{key}, opts, WithMaxAge(time.Minute), WithClock(func() time.Time { return at.Add(time.Hour) }))
			return err
		}, []string{`open "" -1 error expired`}},
		{"get and a miss", func() error {
			v, err := Open(path, []*Key{key}, opts)
			if err != nil {
				return err
			}
			v.Get("database.password")
			_, err = v.Get("database.pasword")
			return err
		}, []string{`open "" 0 ok`, `get "database.password" 0 ok`, `get "database.pasword" 0 error credential not found`}},
		{"reveal", func() error {
			v, _ := Open(path, []*Key{key}, opts)
			_, err := v.RevealJSON()
			return err
		}, []string{`open "" 0 ok`, `reveal "" 0 ok`}},
		{"seal", func() error { return Seal(path, map[string]any{"a": "b"}, key, opts) },
			[]string{`seal "" -1 sealed ok`}},
		{"seal refused", func() error { return Seal(path, map[string]any{"a": make(chan int)}, key, opts) },
			[]string{`seal "" -1 sealed error`}},
		{"seal that fails at the rename", func() error {
			return Seal(path, map[string]any{"a": "b"}, key, opts, withFailpoint(failAt("rename")))
		}, []string{`seal "" -1 sealed ok`, `seal "" -1 sealed error`}},
		{"rotate", func() error { return Rotate(path, []*Key{key}, other, opts) },
			[]string{`rotate "" 0 sealed ok`}},
		{"rotate with a wrong key", func() error { return Rotate(path, []*Key{key}, GenerateKey(), opts) },
			[]string{`rotate "" -1 sealed error wrong key`}},
		{"update", func() error {
			return Update(path, []*Key{other}, func(v *Tx) error {
				if err := v.Set("x.y", "z"); err != nil {
					return err
				}
				return v.Delete("a")
			}, opts)
		}, []string{`open "" 0 ok`, `set "x.y" 0 sealed ok`, `delete "a" 0 sealed ok`}},
		{"update refused by its function", func() error {
			return Update(path, []*Key{other}, func(v *Tx) error {
				v.Set("x.y", "w")
				return errors.New("no")
			}, opts)
		}, []string{`open "" 0 ok`, `set "x.y" 0 sealed error`}},
		{"update with a wrong key", func() error {
			return Update(path, []*Key{key}, func(v *Tx) error { return v.Set("x", "y") }, opts)
		}, []string{`open "" -1 error wrong key`, `update "" -1 sealed error wrong key`}},
		{"a refused set", func() error {
			return Update(path, []*Key{other}, func(v *Tx) error { return v.Set("x", "flat") }, opts)
		}, []string{`open "" 0 ok`, `set "x" 0 sealed error`}},
		{"a refused delete", func() error {
			return Update(path, []*Key{other}, func(v *Tx) error { return v.Delete("nosuch") }, opts)
		}, []string{`open "" 0 ok`, `delete "nosuch" 0 sealed error credential not found`}},
		{"an update that changes nothing", func() error {
			return Update(path, []*Key{other}, func(v *Tx) error { return nil }, opts)
		}, []string{`open "" 0 ok`, `update "" 0 sealed ok`}},
		{"an update whose vault is locked", func() error {
			held, release := make(chan struct{}), make(chan struct{})
			go withWriteLock(path, newOptions[Option](nil), func(string) error {
				close(held)
				<-release
				return nil
			})
			<-held
			defer close(release)
			return Update(path, []*Key{other}, func(v *Tx) error { return v.Set("x", "y") }, opts, WithLockTimeout(0))
		}, []string{`update "" -1 sealed error locked by another writer`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.do()
			if diff := cmp.Diff(tt.want, rec.summary()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}

	// Every event carries the time, the pipeline and the key source.
	Open(path, []*Key{other}, opts)
	e := rec.events[0]
	if !e.Time.Equal(at) || e.Pipeline != pipeline || e.KeySource != "MASTER_KEY" || e.Vault != path || e.Key != other.Fingerprint() {
		t.Errorf("event = %+v", e)
	}
}

func failAt(stage string) func(string) error {
	return func(s string) error {
		if s == stage {
			return errors.New("injected failure")
		}
		return nil
	}
}

// TestAuditFailsClosed: when the Auditor cannot record, nothing is released
// and nothing is written.
func TestAuditFailsClosed(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	before, _ := os.ReadFile(path)
	broken := &recorder{fail: errors.New("audit disk full")}
	fails := WithAuditor(broken)

	check := func(name string, err error) {
		t.Helper()
		if !errors.Is(err, ErrAudit) || !errors.Is(err, broken.fail) {
			t.Errorf("%s: error %v, want one wrapping ErrAudit and the auditor's error", name, err)
		}
		if err != nil {
			assertNoLeak(t, name+" error", err.Error(), append(seedValues, key.Encode())...)
		}
	}
	v, err := Open(path, []*Key{key}, fails)
	if v != nil {
		t.Error("Open released a vault")
	}
	check("Open", err)

	// A vault opened while the auditor worked, whose auditor then fails.
	broken.fail = nil
	v, err = Open(path, []*Key{key}, fails)
	if err != nil {
		t.Fatal(err)
	}
	broken.fail = errors.New("audit disk full")
	got, err := v.Get("database.password")
	if got != "" {
		t.Error("Get released a value")
	}
	check("Get", err)
	doc, err := v.RevealJSON()
	if doc != nil {
		t.Error("RevealJSON released the document")
	}
	check("RevealJSON", err)

	check("Seal", Seal(path, map[string]any{"a": "b"}, key, fails))
	check("Rotate", Rotate(path, []*Key{key}, GenerateKey(), fails))
	broken.fail = nil
	err = Update(path, []*Key{key}, func(v *Tx) error {
		broken.fail = errors.New("audit disk full") // the open was recorded; the set cannot be
		return v.Set("database.password", "changed")
	}, fails)
	check("Update", err)
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a write whose audit failed changed the vault")
	}
	if names := dirNames(t, filepath.Dir(path)); len(names) != 1 {
		t.Errorf("directory holds %q", names)
	}

	// Fail-open lets the operation through.
	broken.fail = errors.New("audit disk full")
	v, err = Open(path, []*Key{key}, fails, WithAuditFailOpen())
	if err != nil {
		t.Fatalf("fail-open Open: %v", err)
	}
	if got, err := v.Get("database.password"); err != nil || got != "s3cret!P@ss" {
		t.Errorf("fail-open Get = %q, %v", got, err)
	}
}

func TestValueFingerprint(t *testing.T) {
	key := GenerateKey()
	rec := &recorder{}
	path := sealSeed(t, key)
	v, err := Open(path, []*Key{key}, WithAuditor(rec))
	if err != nil {
		t.Fatal(err)
	}
	v.Get("database.password")
	v.Get("database.password")
	v.Get("database.username")
	fp := func(i int) string { return rec.events[i].ValueFingerprint }
	if fp(0) != "" {
		t.Error("the open event has a value fingerprint")
	}
	if len(fp(1)) != 16 || fp(1) != fp(2) || fp(1) == fp(3) {
		t.Errorf("fingerprints %q %q %q: want 16 hex digits, equal for equal values only", fp(1), fp(2), fp(3))
	}
	// Another key gives another fingerprint of the same value.
	other := GenerateKey()
	Rotate(path, []*Key{key}, other)
	v, _ = Open(path, []*Key{other}, WithAuditor(rec))
	v.Get("database.password")
	if last := rec.events[len(rec.events)-1].ValueFingerprint; last == fp(1) {
		t.Error("the fingerprint does not depend on the key")
	}
}

// TestSlogAuditor checks the record's stable attribute names, and that no
// value or key appears in what the JSON handler writes.
func TestSlogAuditor(t *testing.T) {
	key := GenerateKey()
	var buf bytes.Buffer
	a := NewSlogAuditor(slog.New(slog.NewJSONHandler(&buf, nil)))
	opts := Options(WithAuditor(a), WithKeySource("MASTER_KEY"), WithPipeline(Pipeline{Platform: "gitlab-ci", RunID: "7", Repo: "group/app"}))
	path := sealSeed(t, key, opts)
	v, err := Open(path, []*Key{key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	v.Get("database.password")
	v.Get("nosuch")
	v.RevealJSON()
	Update(path, []*Key{key}, func(v *Tx) error { return v.Set("database.password", "rotated-pass-value") }, opts)
	Open(path, []*Key{GenerateKey()}, opts)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d records, want 8:\n%s", len(lines), buf.String())
	}
	var get map[string]any
	if err := json.Unmarshal([]byte(lines[2]), &get); err != nil {
		t.Fatal(err)
	}
	delete(get, "time")
	delete(get, "value_fp")
	want := map[string]any{
		"level": "INFO", "msg": "credvault audit", "op": "get", "vault": path, "path": "database.password",
		"key": key.Fingerprint(), "key_index": 0.0, "key_source": "MASTER_KEY", "outcome": "ok",
		"pipeline": map[string]any{"platform": "gitlab-ci", "run_id": "7", "repo": "group/app"},
	}
	if diff := cmp.Diff(want, get); diff != "" {
		t.Errorf("get record (-want +got):\n%s", diff)
	}
	if !strings.Contains(lines[3], `"level":"WARN"`) || !strings.Contains(lines[3], `"outcome":"error"`) || !strings.Contains(lines[3], `"error":"vault: `) {
		t.Errorf("a failed get is not a WARN record with its error: %s", lines[3])
	}
	assertNoLeak(t, "audit log", buf.String(), append(seedValues, "rotated-pass-value", key.Encode())...)
}

// failingWriter fails every write, as a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

func TestSlogAuditorWriteFailureFailsClosed(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	a := NewSlogAuditor(slog.New(slog.NewJSONHandler(failingWriter{}, nil)))
	v, err := Open(path, []*Key{key}, WithAuditor(a))
	if v != nil || !errors.Is(err, ErrAudit) || !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("Open with an audit log that cannot be written: %v, %v", v, err)
	}
}

// traceKey is a context key, as a tracing library has one.
type traceKey struct{}

// traceHandler is a slog.Handler that adds the trace id from the context to
// each record, as OpenTelemetry's bridge does.
type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(traceKey{}).(string); ok {
		r.AddAttrs(slog.String("trace_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// TestSlogAuditorKeepsTraceContext: the context of each Context call
// reaches the slog handler, so its trace id is on the audit record. Before,
// NewSlogAuditor passed context.Background() to Handle.
func TestSlogAuditorKeepsTraceContext(t *testing.T) {
	key := GenerateKey()
	var buf bytes.Buffer
	audit := WithAuditor(NewSlogAuditor(slog.New(traceHandler{slog.NewJSONHandler(&buf, nil)})))
	ctx := context.WithValue(context.Background(), traceKey{}, "trace-4bf92f35")
	path := sealSeed(t, key)
	v, err := OpenContext(ctx, path, []*Key{key}, audit)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.GetContext(ctx, "database.password"); err != nil {
		t.Fatal(err)
	}
	v.Get("database.username") // no context: no trace id
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d records, want 3:\n%s", len(lines), buf.String())
	}
	for i, want := range []bool{true, true, false} {
		if got := strings.Contains(lines[i], `"trace_id":"trace-4bf92f35"`); got != want {
			t.Errorf("record %d has the trace id: %v, want %v: %s", i, got, want, lines[i])
		}
	}
}

// TestContextReachesAuditor: every Context function gives its context to
// the Auditor, for every event it records.
func TestContextReachesAuditor(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	ctx := context.WithValue(context.Background(), traceKey{}, "t1")
	var seen []string
	audit := WithAuditor(AuditorFunc(func(ctx context.Context, e Event) error {
		id, _ := ctx.Value(traceKey{}).(string)
		seen = append(seen, string(e.Op)+" "+id)
		return nil
	}))
	v, err := OpenContext(ctx, path, []*Key{key}, audit)
	if err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func() error
		want []string
	}{
		{"OpenContext", func() error { _, err := OpenContext(ctx, path, []*Key{key}, audit); return err }, []string{"open t1"}},
		{"OpenFSContext", func() error {
			_, err := OpenFSContext(ctx, os.DirFS(filepath.Dir(path)), filepath.Base(path), []*Key{key}, audit)
			return err
		}, []string{"open t1"}},
		{"GetContext", func() error { _, err := v.GetContext(ctx, "database.username"); return err }, []string{"get t1"}},
		{"FlattenContext", func() error { _, err := v.FlattenContext(ctx, "APP_"); return err }, []string{"flatten t1"}},
		{"EnvironContext", func() error { _, err := v.EnvironContext(ctx, "APP_"); return err }, []string{"flatten t1"}},
		{"ExportContext", func() error { return v.ExportContext(ctx, io.Discard, ExportJSON, "APP_") }, []string{"export t1"}},
		{"RevealJSONContext", func() error { _, err := v.RevealJSONContext(ctx); return err }, []string{"reveal t1"}},
		{"SealContext", func() error { return SealContext(ctx, path, map[string]any{"a": "b"}, key, audit) }, []string{"seal t1"}},
		{"SealContext refused", func() error {
			SealContext(ctx, path, map[string]any{"a": make(chan int)}, key, audit)
			return nil
		}, []string{"seal t1"}},
		{"UpdateContext", func() error {
			return UpdateContext(ctx, path, []*Key{key}, func(tx *Tx) error { return tx.Set("b", "c") }, audit)
		}, []string{"open t1", "set t1"}},
		{"LookupContext", func() error { _, _, err := v.LookupContext(ctx, "database.nope"); return err }, []string{"lookup t1"}},
		{"DecodeContext", func() error { var s string; return v.DecodeContext(ctx, "database.host", &s) }, []string{"decode t1"}},
		{"OpenBytesContext", func() error {
			data, _ := os.ReadFile(path)
			_, err := OpenBytesContext(ctx, data, "mem", []*Key{key}, audit)
			return err
		}, []string{"open t1"}},
		{"SealToContext", func() error { return SealToContext(ctx, io.Discard, "mem", map[string]any{}, key, audit) }, []string{"seal t1"}},
		{"Run", func() error {
			var exit *ExitError
			if err := v.Run(ctx, &Command{Args: []string{"no-such-command-xyz"}}); !errors.As(err, &exit) {
				return err
			}
			return nil
		}, []string{"exec t1"}},
		{"RotateContext", func() error { return RotateContext(ctx, path, []*Key{key}, GenerateKey(), audit) }, []string{"rotate t1"}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			seen = nil
			if err := c.call(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, seen); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValueFingerprintText pins what a fingerprint hashes, so that one
// value gives the same fingerprint in every version's audit log: the
// values, each as its length in decimal, a colon and its bytes, under a key
// derived from the vault key. Values longer than the writer's buffer, and
// many short ones, cross its edges.
func TestValueFingerprintText(t *testing.T) {
	key := GenerateKey()
	derive := hmac.New(sha256.New, key.fernetKey()[:])
	derive.Write([]byte(valueFingerprintDomain))
	fpKey := derive.Sum(nil)
	fingerprint := newFingerprinter(key).of
	for _, values := range [][]string{
		nil,
		{""},
		{"ab", "c"},
		{strings.Repeat("x", 4095), "y", strings.Repeat("z", 10000)},
		strings.Split(strings.Repeat("value-", 3000), "-"),
	} {
		mac := hmac.New(sha256.New, fpKey)
		for _, v := range values {
			fmt.Fprintf(mac, "%d:%s", len(v), v)
		}
		if got, want := fingerprint(values...), hex.EncodeToString(mac.Sum(nil)[:8]); got != want {
			t.Errorf("%d values: fingerprint %s, want %s", len(values), got, want)
		}
	}
	vars := map[string]string{"B": strings.Repeat("b", 5000), "A": "a"}
	if got, want := newFingerprinter(key).vars(vars, []string{"A", "B"}), fingerprint("A", "a", "B", vars["B"]); got != want {
		t.Errorf("variables: fingerprint %s, want %s, that of each name and its value", got, want)
	}
}

// TestEventJSON: an Event encodes as JSON with its error's message, which
// encoding/json made {} of.
func TestEventJSON(t *testing.T) {
	e := Event{Op: OpGet, Vault: "credentials.enc", Path: "db.password", KeyIndex: -1, Err: errorf(ErrNotFound, "credentials.enc: no credential %q", "db.password")}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["Err"] != `vault: credentials.enc: no credential "db.password"` || got["Op"] != "get" || got["Path"] != "db.password" || got["KeyIndex"] != float64(-1) {
		t.Errorf("JSON %s", b)
	}
	e.Err = nil
	if b, _ := json.Marshal(e); !strings.Contains(string(b), `"Err":null`) {
		t.Errorf("JSON of a success %s", b)
	}
}
