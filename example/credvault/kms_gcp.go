//go:build !credvault_nogcpkms

package main

import (
	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/custody/gcpkms"
)

func gcpDriver() custody.Driver { return gcpkms.New() }
