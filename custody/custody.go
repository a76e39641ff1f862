// Package custody keeps a vault's key so that no person and no pipeline
// need ever hold it raw: the key is wrapped for each recipient (an age
// identity, a key in a cloud KMS) in a recipients file beside the vault,
// <vault>.keys, which holds no secret and is meant to be committed, so that
// who can open the vault is visible in code review and in history.
//
// The vault itself stays one plain Fernet token: whoever holds the raw key
// (unwrapped with "age -d", say) opens it with Python's cryptography as
// before. Package vault, which opens vaults, knows nothing of custody and
// compiles no cloud SDK; this package compiles filippo.io/age and no cloud
// SDK either. The KMS drivers live in subpackages (awskms, gcpkms,
// azurekeyvault, hashivault), one per cloud, so a program compiles only the
// clouds it passes in.
//
// The common case, opening a vault by whichever route the environment
// offers (MASTER_KEY, a key command, an age identity, a KMS role):
//
//	res := &custody.Resolver{Getenv: os.Getenv, Environ: os.Environ, Stderr: os.Stderr,
//		KMS: []custody.Driver{awskms.New()}}
//	kr, err := res.Resolve(ctx, "credentials.enc")
//	if err != nil { ... } // a *NoKeyError lists each route and why it failed
//	v, err := vault.Open("credentials.enc", kr.Keys, vault.WithKeySource(kr.Route.String()))
//
// [Seal] creates a vault under a fresh key wrapped for its recipients;
// [AddRecipient] and [RemoveRecipient] change who can open it; [Rotate]
// re-seals it under a new key wrapped for every recipient.
//
// # Security considerations
//
// A recipients file tells who can open the vault; it does not tell who
// sealed it. Anyone can wrap a key for a public age recipient, and anyone
// allowed kms:Encrypt can wrap for a KMS key: whoever can write to the
// repository can replace the vault and its recipients file with ones of
// their own, which a pipeline would open. A pipeline defends itself by
// pinning the key's fingerprint where the repository's writers cannot
// change it (see [Resolver]); "credvault status" and "credvault seal
// -recipient" print the value to pin.
//
// Removing a recipient revokes nothing it has already seen: it may have
// kept the key or any vault it opened. Remove it, then [Rotate], and change
// the secrets it could read if that matters.
//
// KMS-wrapped keys are bound to their KMS key (AWS: Decrypt is called with
// the recipient's KeyId, so a ciphertext made under another key, even one
// the caller may use, is refused) and to the purpose and the key's
// fingerprint (see [Binding]). Errors, warnings and routes never hold a
// key, and a key command's output is never shown.
package custody
