package certs

import (
	"crypto"
	"fmt"
	"time"
)

// Responder is a CA's delegated OCSP responder certificate (RFC 6960
// §4.2.2.2: id-kp-OCSPSigning, id-pkix-ocsp-nocheck) and its sealed key.
type Responder struct {
	CA        Identifier // the CA that issued it and for which it answers
	DER       []byte
	SealedKey []byte // PKCS#8, sealed with the certificate's identifier as aad
	NotBefore time.Time
	NotAfter  time.Time
	CreatedAt time.Time
}

// Identifier returns the identifier of the responder certificate.
func (r Responder) Identifier() Identifier { return IdentifierOf(r.DER) }

// Validate checks the invariants of a stored responder.
func (r Responder) Validate() error {
	if !r.CA.Valid() || len(r.DER) == 0 || len(r.SealedKey) == 0 {
		return fmt.Errorf("%w responder for CA %q: needs a CA, a certificate and a key", ErrInvalid, r.CA)
	}
	if !r.NotAfter.After(r.NotBefore) {
		return fmt.Errorf("%w responder for CA %s: empty validity", ErrInvalid, r.CA)
	}
	return nil
}

// OCSPResponse is a signed OCSP response for one certificate (issuer,
// serial) and one CertID hash algorithm, kept so that requests without a
// nonce are answered without signing.
type OCSPResponse struct {
	Issuer     Identifier
	Serial     Serial
	Hash       crypto.Hash // the CertID hash the response answers
	Status     Status      // what the response says; the store checks it against the record
	DER        []byte
	ThisUpdate time.Time
	NextUpdate time.Time
}

// Validate checks the invariants of a stored response.
func (o OCSPResponse) Validate() error {
	switch o.Hash {
	case crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return fmt.Errorf("%w OCSP response: hash %v", ErrInvalid, o.Hash)
	}
	if !o.Issuer.Valid() || len(o.DER) == 0 || o.Status == Unknown {
		return fmt.Errorf("%w OCSP response for %s/%s: needs an issuer, a known status and DER", ErrInvalid, o.Issuer, o.Serial)
	}
	if !o.NextUpdate.After(o.ThisUpdate) {
		return fmt.Errorf("%w OCSP response for %s/%s: nextUpdate not after thisUpdate", ErrInvalid, o.Issuer, o.Serial)
	}
	return nil
}

// CRL is a CA's current certificate revocation list (RFC 5280 §5).
type CRL struct {
	CA         Identifier
	Number     uint64 // cRLNumber, strictly increasing per CA
	DER        []byte
	ThisUpdate time.Time
	NextUpdate time.Time
	// Stale is set, in the same transaction, by every revocation the CRL
	// does not list yet; a stale CRL is regenerated before it is served.
	Stale bool
	// Revision counts the revocations that made the CRL stale; a CRL built
	// from revision r only clears Stale if no revocation came since.
	Revision uint64
}
