package ca

import (
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// ekuUsage is cfssl's name of each extended key usage.
var ekuUsage = map[certs.EKU]string{
	certs.EKUServerAuth:      "server auth",
	certs.EKUClientAuth:      "client auth",
	certs.EKUCodeSigning:     "code signing",
	certs.EKUEmailProtection: "email protection",
}

// kuUsage is cfssl's name of each key usage a custom certificate may carry.
var kuUsage = map[certs.KeyUsage]string{
	certs.KUDigitalSignature:  "digital signature",
	certs.KUContentCommitment: "content commitment",
	certs.KUKeyEncipherment:   "key encipherment",
	certs.KUDataEncipherment:  "data encipherment",
	certs.KUKeyAgreement:      "key agreement",
	certs.KUEncipherOnly:      "encipher only",
	certs.KUDecipherOnly:      "decipher only",
}

// checkChain reports why the CAs of chain (issuing CA first) may not sign a
// certificate with usages valid from nb to na: every CA's EKU constraint
// and validity cap applies, so a constraint cannot be escaped through a
// sub CA.
func checkChain(chain []certs.CA, usages []certs.EKU, nb, na time.Time) error {
	for _, c := range chain {
		if len(usages) == 0 && len(c.ExtKeyUsages) > 0 {
			// No EKU extension would let the certificate serve any usage.
			return fmt.Errorf("%w: CA %s is limited to the extended key usages %v; the certificate must name one of them", certs.ErrInvalid, c.Identifier, c.ExtKeyUsages)
		}
		if err := c.CheckIssue(usages, nb, na); err != nil {
			return err
		}
	}
	return nil
}

// customUsages is the cfssl usage list of a custom certificate's key usages
// and extended key usages; at least one usage must be named.
func customUsages(kus []certs.KeyUsage, ekus []certs.EKU) ([]string, error) {
	var out []string
	for _, u := range kus {
		s, ok := kuUsage[u]
		if !ok {
			return nil, fmt.Errorf("%w key usage %q: not one a leaf may carry", certs.ErrInvalid, u)
		}
		out = append(out, s)
	}
	for _, u := range ekus {
		s, ok := ekuUsage[u]
		if !ok {
			return nil, fmt.Errorf("%w extended key usage %q: not one a leaf may carry", certs.ErrInvalid, u)
		}
		out = append(out, s)
	}
	if len(kus) == 0 {
		return nil, fmt.Errorf("%w: a custom certificate needs at least one key usage", certs.ErrInvalid)
	}
	return out, nil
}
