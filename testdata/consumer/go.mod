// A consumer of the library, as a team's deploy tool would be: it uses
// package vault's public API only, and is built and tested by the
// library's TestConsumerModule.
module example.com/deploy

go 1.24.0

require github.com/credvault/vault v0.0.0

require (
	filippo.io/age v1.2.1 // indirect
	github.com/fernet/fernet-go v0.0.0-20240119011108-303da6aec611 // indirect
	golang.org/x/crypto v0.45.0 // indirect
	golang.org/x/sys v0.40.0 // indirect
	golang.org/x/term v0.37.0 // indirect
)

replace github.com/credvault/vault => ../..
