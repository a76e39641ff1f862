module github.com/credvault/vault

go 1.22

require (
	github.com/fernet/fernet-go v0.0.0-20240119011108-303da6aec611
	github.com/google/go-cmp v0.7.0
	github.com/rogpeppe/go-internal v1.13.1
	golang.org/x/sys v0.21.0
	golang.org/x/term v0.21.0
)

require golang.org/x/tools v0.22.0 // indirect
