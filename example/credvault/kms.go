package main

import (
	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/custody/awskms"
	"github.com/credvault/vault/custody/azurekeyvault"
	"github.com/credvault/vault/custody/gcpkms"
	"github.com/credvault/vault/custody/hashivault"
)

// kmsDrivers returns the drivers for kms recipients: AWS KMS, Google Cloud
// KMS, Azure Key Vault and HashiCorp Vault Transit, each with the ambient
// credentials of the process (Vault's address and token from
// $VAULT_ADDR and $VAULT_TOKEN).
func kmsDrivers(getenv func(string) string) []custody.Driver {
	return []custody.Driver{
		awskms.New(),
		gcpkms.New(),
		azurekeyvault.New(),
		hashivault.New(hashivault.FromEnv(getenv)),
	}
}
