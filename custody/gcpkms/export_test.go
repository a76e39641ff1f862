package gcpkms

// NewAt returns a Driver that calls the API at endpoint (a base URL ending
// in /), for the tests' fake server. A recipients file cannot name an
// endpoint: Check refuses every parameter.
func NewAt(endpoint string) *Driver { return &Driver{endpoint: endpoint} }
