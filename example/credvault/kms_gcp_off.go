//go:build credvault_nogcpkms

package main

import "github.com/credvault/vault/custody"

func gcpDriver() custody.Driver { return nil }
