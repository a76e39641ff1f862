//go:build !credvault_noazurekeyvault

package main

import (
	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/custody/azurekeyvault"
)

func azureDriver() custody.Driver { return azurekeyvault.New() }
