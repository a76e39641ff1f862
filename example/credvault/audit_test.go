package main

import (
	"context"
	"errors"
	"testing"

	"github.com/credvault/vault"
)

// TestAuditSummary checks the one line a terminal shows per command.
func TestAuditSummary(t *testing.T) {
	open := vault.Event{Op: vault.OpOpen, Vault: "credentials.enc", Key: "8343ee68f937"}
	failed := errors.New("failed")
	for _, tt := range []struct {
		name   string
		events []vault.Event
		want   string
	}{
		{"nothing", nil, ""},
		{"get", []vault.Event{open, {Op: vault.OpGet, Vault: "credentials.enc", Path: "database.password", Key: "8343ee68f937"}},
			"credvault: audit: get database.password (credentials.enc, key 8343ee68f937)"},
		{"status opens only", []vault.Event{open},
			"credvault: audit: open (credentials.enc, key 8343ee68f937)"},
		{"edit", []vault.Event{
			open, {Op: vault.OpReveal, Vault: "credentials.enc", Key: "8343ee68f937"},
			open, {Op: vault.OpReveal, Vault: "credentials.enc", Key: "8343ee68f937"},
			{Op: vault.OpReplace, Vault: "credentials.enc", Key: "8343ee68f937", SealKey: "8343ee68f937"},
		}, "credvault: audit: reveal, replace (credentials.enc, key 8343ee68f937)"},
		{"set reads the type it keeps", []vault.Event{
			open, {Op: vault.OpDecode, Vault: "credentials.enc", Path: "database.port", Key: "8343ee68f937"},
			{Op: vault.OpSet, Vault: "credentials.enc", Path: "database.port", Key: "8343ee68f937", SealKey: "8343ee68f937"},
		}, "credvault: audit: set database.port (credentials.enc, key 8343ee68f937)"},
		{"set refused", []vault.Event{
			open, {Op: vault.OpDecode, Vault: "credentials.enc", Path: "database.port", Key: "8343ee68f937"},
			{Op: vault.OpUpdate, Vault: "credentials.enc", Key: "8343ee68f937", Err: failed},
		}, "credvault: audit: decode database.port, update (credentials.enc, key 8343ee68f937): failed"},
		{"exec", []vault.Event{open, {Op: vault.OpExec, Vault: "credentials.enc", Command: "deploy.sh", Names: []string{"A", "B"}}},
			"credvault: audit: exec deploy.sh with 2 names (credentials.enc, key 8343ee68f937)"},
		{"rotate", []vault.Event{open, {Op: vault.OpRotate, Vault: "credentials.enc", Key: "8343ee68f937", SealKey: "0123456789ab"}},
			"credvault: audit: rotate (credentials.enc, key 0123456789ab)"},
		{"wrong key", []vault.Event{{Op: vault.OpOpen, Vault: "credentials.enc", KeyIndex: -1, Err: failed}},
			"credvault: audit: open (credentials.enc): failed"},
		{"merge", []vault.Event{{Op: vault.OpOpen, Vault: "base.enc", Key: "8343ee68f937"}, {Op: vault.OpOpen, Vault: "ours.enc", Key: "8343ee68f937"}, {Op: vault.OpSeal, Vault: "ours.enc", SealKey: "8343ee68f937"}},
			"credvault: audit: seal (base.enc, ours.enc, key 8343ee68f937)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &auditSummary{}
			for _, e := range tt.events {
				if err := s.Audit(context.Background(), e); err != nil {
					t.Fatal(err)
				}
			}
			if got := s.line(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
