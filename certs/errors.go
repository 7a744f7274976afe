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

	// ErrNotRevoked is returned when a certificate that was never revoked
	// is to be deleted: only revoked certificates may leave the listings.
	ErrNotRevoked = errors.New("certs: not revoked")

	// ErrIssuerUnusable is returned when an issuing CA is revoked, disabled,
	// expired or not yet valid and so may not sign.
	ErrIssuerUnusable = errors.New("certs: issuing CA cannot issue")

	// ErrCorrupt is returned when a stored value fails its checksum, does
	// not decode, or holds what no writer stores (an unknown state or
	// reason): nothing may be decided from it, least of all a status.
	ErrCorrupt = errors.New("certs: stored data is corrupt")

	// ErrStorage is returned when the store could not make a change durable
	// (disk full, I/O error, a damaged file): nothing was changed, and the
	// caller may retry once the storage is repaired. It is wrapped together
	// with the cause, so errors.Is also finds the cause (syscall.ENOSPC).
	ErrStorage = errors.New("certs: storage write failed")
)

// The resources a NotFoundError names.
const (
	ResourceCertificate = "certificate"
	ResourceCA          = "CA"
)

// NotFoundError is the ErrNotFound of one named resource: the API answers
// each kind with its own code (NotFound.Certificate, NotFound.CA).
type NotFoundError struct {
	Resource string // ResourceCertificate or ResourceCA
	ID       string
	// Detail, if set, says more (e.g. "was deleted at …").
	Detail string
}

func (e *NotFoundError) Error() string {
	s := "certs: not found: " + e.Resource + " " + e.ID
	if e.Detail != "" {
		s += " " + e.Detail
	}
	return s
}

// Unwrap makes errors.Is(err, ErrNotFound) hold.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// CertNotFound and CANotFound return the NotFoundError of a certificate or
// a CA.
func CertNotFound(id Identifier) error {
	return &NotFoundError{Resource: ResourceCertificate, ID: string(id)}
}

func CANotFound(id Identifier) error { return &NotFoundError{Resource: ResourceCA, ID: string(id)} }
