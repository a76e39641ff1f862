package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNilContext: every Context function given a nil context returns an
// error, where some panicked (Update, Seal, Rotate) and others went on
// (Get), handing the Auditor a nil context.
func TestNilContext(t *testing.T) {
	var nilCtx context.Context // a variable: a literal nil is what linters catch
	key := GenerateKey()
	path := sealSeed(t, key)
	before, _ := os.ReadFile(path)
	keys := []*Key{key}
	v, err := Open(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for name, call := range map[string]func() error{
		"OpenContext": func() error { _, err := OpenContext(nilCtx, path, keys); return err },
		"OpenFSContext": func() error {
			_, err := OpenFSContext(nilCtx, os.DirFS(filepath.Dir(path)), filepath.Base(path), keys)
			return err
		},
		"OpenBytesContext": func() error { _, err := OpenBytesContext(nilCtx, before, path, keys); return err },
		"SealContext":      func() error { return SealContext(nilCtx, path, map[string]any{}, key) },
		"SealToContext":    func() error { return SealToContext(nilCtx, &buf, "mem", map[string]any{}, key) },
		"UpdateContext":    func() error { return UpdateContext(nilCtx, path, keys, func(*Tx) error { return nil }) },
		"RotateContext":    func() error { return RotateContext(nilCtx, path, keys, GenerateKey()) },
		"MergeContext":     func() error { return MergeContext(nilCtx, path, path, path, keys) },
		"UpdateSidecar": func() error {
			return UpdateSidecar(nilCtx, path, SidecarUpdate{Path: path + ".keys", Content: func() ([]byte, error) { return nil, nil }})
		},
		"GetContext":        func() error { _, err := v.GetContext(nilCtx, "database.host"); return err },
		"LookupContext":     func() error { _, _, err := v.LookupContext(nilCtx, "database.host"); return err },
		"DecodeContext":     func() error { var s string; return v.DecodeContext(nilCtx, "database.host", &s) },
		"FlattenContext":    func() error { _, err := v.FlattenContext(nilCtx, ""); return err },
		"EnvironContext":    func() error { _, err := v.EnvironContext(nilCtx, ""); return err },
		"ExportContext":     func() error { return v.ExportContext(nilCtx, &buf, ExportShell, "") },
		"RevealJSONContext": func() error { _, err := v.RevealJSONContext(nilCtx); return err },
		"Masker":            func() error { _, err := v.Masker(nilCtx); return err },
		"Run":               func() error { return v.Run(nilCtx, &Command{Args: []string{"true"}}) },
	} {
		t.Run(name, func(t *testing.T) {
			if err := call(); !errors.Is(err, errNilContext) {
				t.Errorf("error %v, want the nil Context error", err)
			}
		})
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) || buf.Len() > 0 {
		t.Error("a call with a nil context wrote something")
	}
}

// TestNilArguments: a nil function, writer, file system or command is an
// error that names what is missing, not a nil dereference; a nil option
// is skipped, as a nil FlattenOption is; NewSlogAuditor(nil) panics when
// it is called, not at the first audit.
func TestNilArguments(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	before, _ := os.ReadFile(path)
	keys := []*Key{key}
	v, err := Open(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		call func() error
		says string
	}{
		{"Update without fn", func() error { return Update(path, keys, nil) }, "Update needs a function that changes the vault"},
		{"UpdateSidecar without Content", func() error {
			return UpdateSidecar(context.Background(), path, SidecarUpdate{Path: path + ".keys", Perm: 0o600})
		}, "UpdateSidecar needs a Content function"},
		{"OpenFS without a file system", func() error { _, err := OpenFS(nil, "credentials.enc", keys); return err }, "OpenFS needs a file system"},
		{"SealTo a nil writer", func() error { return SealTo(nil, "mem", map[string]any{}, key) }, "cannot seal mem to a nil writer"},
		{"Export to a nil writer", func() error { return v.Export(nil, ExportShell, "") }, "Export needs a writer and an Exporter"},
		{"Export with a nil Exporter", func() error { return v.Export(io.Discard, nil, "") }, "Export needs a writer and an Exporter"},
		{"RunCmd without a command", func() error { return RunCmd(nil) }, "RunCmd needs a command"},
		{"KeyringFromEnv without getenv", func() error { _, err := KeyringFromEnv(nil, "MASTER_KEY"); return err }, "$MASTER_KEY is not set"},
		{"a nil AuditorFunc", func() error { _, err := Open(path, keys, WithAuditor(AuditorFunc(nil))); return err }, "the AuditorFunc is nil"},
		{"a Redactor without a writer", func() error { _, err := NewRedactor(nil, "secret-value").Write([]byte("x secret-value y")); return err }, "the Redactor has no writer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %v, want one saying %q", err, tt.says)
			}
		})
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the vault changed")
	}
	if p := DetectPipeline(nil); p.Platform != "local" {
		t.Errorf("DetectPipeline(nil) = %+v, want local", p)
	}

	t.Run("nil options are skipped", func(t *testing.T) {
		if _, err := Open(path, keys, nil, WithMaxAge(0)); err != nil {
			t.Error(err)
		}
		if err := Seal(path, map[string]any{"a": "b"}, key, nil); err != nil {
			t.Error(err)
		}
		if err := Update(path, keys, func(tx *Tx) error { return tx.Set("c", "d", nil) }, nil); err != nil {
			t.Error(err)
		}
		if err := Rotate(path, keys, GenerateKey(), nil); err != nil {
			t.Error(err)
		}
	})

	t.Run("NewSlogAuditor(nil)", func(t *testing.T) {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "NewSlogAuditor needs a *slog.Logger") {
				t.Errorf("panic %v, want one that says what NewSlogAuditor needs", r)
			}
		}()
		NewSlogAuditor((*slog.Logger)(nil))
	})
}
