package certs

import "errors"

// Errors shared by the store, the CA and the API surfaces. Wrap them with
// fmt.Errorf("...: %w", err) and test for them with errors.Is.
var (
	// ErrNotFound is returned when a certificate, CA or access key does not exist.
	ErrNotFound = errors.New("certs: not found")

	// ErrExists is returned when a record with the same identifier, serial
	// (per issuer) or custom identifier is already stored.
	ErrExists = errors.New("certs: already exists")

	// ErrAlreadyRevoked is returned when a revoked certificate or CA is
	// revoked again; the first revocation's facts are kept.
	ErrAlreadyRevoked = errors.New("certs: already revoked")

	// ErrInvalid is returned for a malformed identifier, serial, reason,
	// kind or record.
	ErrInvalid = errors.New("certs: invalid")

	// ErrBadCSR is returned for a certificate signing request that does not
	// parse, whose signature does not verify, or that asks for what may not
	// be issued.
	ErrBadCSR = errors.New("certs: bad CSR")

	// ErrIssuerUnusable is returned when an issuing CA is revoked, disabled,
	// expired or not yet valid and so may not sign.
	ErrIssuerUnusable = errors.New("certs: issuing CA cannot issue")
)
