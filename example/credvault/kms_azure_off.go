//go:build credvault_noazurekeyvault

package main

import "github.com/credvault/vault/custody"

func azureDriver() custody.Driver { return nil }
