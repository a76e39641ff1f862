//go:build credvault_nohashivault

package main

import "github.com/credvault/vault/custody"

func vaultDriver(getenv func(string) string) custody.Driver { return nil }
