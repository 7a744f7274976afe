// Package ca is the certificate authority of certstatus: it creates root and
// sub CAs, issues CLIENT and SERVER certificates from parameters (generating
// the key pair) or from a CSR, and revokes them. Signing goes through
// cloudflare/cfssl's local signer with a profile built per request, and
// through a crypto.Signer, so a KMS or PKCS#11 key can replace the sealed
// software key (Options.SignerFor).
//
// It imports certs and never db, responder or api: it declares the Store it
// needs and *db.Store satisfies it.
//
// # Caveats
//
// cfssl's pre-issuance linting (lint_error_level) is never enabled: it is
// broken on current Go (cfssl issue #1230). Issued certificates are linted
// with zlint v3 in this package's tests instead.
package ca
