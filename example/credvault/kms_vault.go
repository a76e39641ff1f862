//go:build !credvault_nohashivault

package main

import (
	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/custody/hashivault"
)

func vaultDriver(getenv func(string) string) custody.Driver {
	return hashivault.New(hashivault.FromEnv(getenv))
}
