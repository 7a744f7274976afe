package certs

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"
)

// EKU is an extended key usage (RFC 5280 §4.2.1.12) in Alibaba's spelling,
// as ExtendedKeyUsages carries it.
type EKU string

// The extended key usages a CA may be constrained to and a custom
// certificate may carry. id-kp-OCSPSigning and anyExtendedKeyUsage are
// deliberately absent: a leaf with OCSPSigning would answer OCSP for its
// issuer, and "any" is no constraint.
const (
	EKUServerAuth      EKU = "serverAuth"
	EKUClientAuth      EKU = "clientAuth"
	EKUCodeSigning     EKU = "codeSigning"
	EKUEmailProtection EKU = "emailProtection"
)

var ekus = []EKU{EKUServerAuth, EKUClientAuth, EKUCodeSigning, EKUEmailProtection}

// ParseEKU reads an extended key usage, case-insensitively.
func ParseEKU(s string) (EKU, error) {
	for _, e := range ekus {
		if strings.EqualFold(s, string(e)) {
			return e, nil
		}
	}
	return "", fmt.Errorf("%w extended key usage %q: want one of serverAuth, clientAuth, codeSigning, emailProtection", ErrInvalid, s)
}

// EKUOf is the extended key usage a CLIENT or SERVER certificate carries.
func EKUOf(k Kind) EKU {
	if k == KindServer {
		return EKUServerAuth
	}
	return EKUClientAuth
}

// AllowsEKU reports whether c lets the certificates it signs carry e: a CA
// without an EKU constraint allows every usage.
func (c CA) AllowsEKU(e EKU) bool {
	if len(c.ExtKeyUsages) == 0 {
		return true
	}
	for _, have := range c.ExtKeyUsages {
		if have == e {
			return true
		}
	}
	return false
}

// CheckIssue reports, as an error wrapping ErrInvalid, why c may not sign a
// certificate with the extended key usages usages valid from notBefore to
// notAfter: a usage outside c's EKU constraint, or a validity longer than
// c's CertMaxDays (plus the clock-skew backdate). A request beyond the cap
// is refused, never truncated.
func (c CA) CheckIssue(usages []EKU, notBefore, notAfter time.Time) error {
	for _, u := range usages {
		if !c.AllowsEKU(u) {
			return fmt.Errorf("%w: CA %s is limited to the extended key usages %s and may not sign a certificate for %s", ErrInvalid, c.Identifier, joinEKUs(c.ExtKeyUsages), u)
		}
	}
	// The backdate every relative validity gets for clock skew does not count.
	if c.CertMaxDays > 0 && notAfter.Sub(notBefore) > time.Duration(c.CertMaxDays)*24*time.Hour+backdate {
		return fmt.Errorf("%w validity: CA %s signs certificates valid for at most %d days (CertMaxTime), this one asks for %s to %s",
			ErrInvalid, c.Identifier, c.CertMaxDays, notBefore.UTC().Format(time.RFC3339), notAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

func joinEKUs(es []EKU) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = string(e)
	}
	return strings.Join(s, ",")
}

// Deletable reports, as an error wrapping ErrNotRevoked, why r may not be
// deleted: as at Alibaba, only a revoked certificate is. Deleting one that
// still answers good would hide a live certificate from every listing.
func (r Record) Deletable() error {
	if r.State != StateRevoked {
		return fmt.Errorf("%w: certificate %s has not been revoked; revoke it before deleting it", ErrNotRevoked, r.Identifier)
	}
	return nil
}

// DefaultCountry is the country (C) of a root CA created without one:
// "XX", the ISO 3166-1 user-assigned code the CA/Browser Forum Baseline
// Requirements (§7.1.4.2.2) name for "no country code assigned". Alibaba
// documents no default; a real code would claim a jurisdiction.
const DefaultCountry = "XX"

// KeyUsage is a key usage bit (RFC 5280 §4.2.1.3) a custom certificate may
// carry, in Alibaba's spelling (ApiPassthrough.Extensions.KeyUsage).
// keyCertSign and cRLSign are absent: a leaf never signs certificates.
type KeyUsage string

// The key usages of CreateCustomCertificate.
const (
	KUDigitalSignature  KeyUsage = "DigitalSignature"
	KUContentCommitment KeyUsage = "ContentCommitment" // also NonRepudiation
	KUKeyEncipherment   KeyUsage = "KeyEncipherment"
	KUDataEncipherment  KeyUsage = "DataEncipherment"
	KUKeyAgreement      KeyUsage = "KeyAgreement"
	KUEncipherOnly      KeyUsage = "EncipherOnly"
	KUDecipherOnly      KeyUsage = "DecipherOnly"
)

// X509 is e as crypto/x509 names it.
func (e EKU) X509() x509.ExtKeyUsage {
	switch e {
	case EKUServerAuth:
		return x509.ExtKeyUsageServerAuth
	case EKUClientAuth:
		return x509.ExtKeyUsageClientAuth
	case EKUCodeSigning:
		return x509.ExtKeyUsageCodeSigning
	case EKUEmailProtection:
		return x509.ExtKeyUsageEmailProtection
	}
	return x509.ExtKeyUsageAny
}
