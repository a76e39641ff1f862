package azurekeyvault

import (
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/keyvault/azkeys"
)

// NewAt returns a Driver that sends every request to the vault at endpoint
// (the tests' fake, whose challenge names no Key Vault domain) through
// transport, authenticated by cred, or by DefaultAzureCredential if cred is
// nil. A recipients file cannot name an endpoint: Check accepts only Key
// Vault hosts and the algorithm parameter.
func NewAt(endpoint string, cred azcore.TokenCredential, transport policy.Transporter) *Driver {
	return &Driver{endpoint: endpoint, cred: cred, options: &azkeys.ClientOptions{
		ClientOptions:                        azcore.ClientOptions{Transport: transport},
		DisableChallengeResourceVerification: true,
	}}
}
