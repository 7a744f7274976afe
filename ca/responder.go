package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// ResponderStore is what responder rotation needs besides Store.
type ResponderStore interface {
	Responder(ctx context.Context, ca certs.Identifier) (certs.Responder, error)
	PutResponder(ctx context.Context, r certs.Responder) error
}

// IssueResponder issues a delegated OCSP responder certificate for CA id
// (RFC 6960 §4.2.2.2): an ECDSA P-256 key, KU digitalSignature, EKU
// id-kp-OCSPSigning, id-pkix-ocsp-nocheck, valid for validity (never past
// the CA's own notAfter). The responder answers for a disabled CA too, but
// not for a revoked or expired one. The caller stores the result.
func (a *Authority) IssueResponder(ctx context.Context, id certs.Identifier, validity time.Duration) (certs.Responder, crypto.Signer, error) {
	if validity < time.Hour {
		return certs.Responder{}, nil, fmt.Errorf("%w responder validity %v: at least an hour", certs.ErrInvalid, validity)
	}
	c, err := a.store.CA(ctx, id)
	if err != nil {
		return certs.Responder{}, nil, fmt.Errorf("ca: responder: %w", err)
	}
	now := a.opts.Now()
	if c.State == certs.StateRevoked || !now.Before(c.NotAfter) {
		return certs.Responder{}, nil, fmt.Errorf("%w: CA %s is revoked or expired and gets no new OCSP responder", certs.ErrIssuerUnusable, id)
	}
	caCert, err := c.Certificate()
	if err != nil {
		return certs.Responder{}, nil, err
	}
	caKey, err := a.signer(ctx, c)
	if err != nil {
		return certs.Responder{}, nil, err
	}
	key, err := generate(certs.ECC256)
	if err != nil {
		return certs.Responder{}, nil, err
	}
	subj := certs.Subject{CommonName: truncate(caCert.Subject.CommonName+" OCSP Responder", 64), Organization: first(caCert.Subject.Organization), Country: first(caCert.Subject.Country)}
	csrPEM, err := makeCSR(key, subj, nil)
	if err != nil {
		return certs.Responder{}, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return certs.Responder{}, nil, err
	}
	nb := now.Add(-5 * time.Minute).Truncate(time.Second) // for slow relying-party clocks
	if nb.Before(c.NotBefore) {
		nb = c.NotBefore
	}
	na := now.Add(validity).Truncate(time.Second)
	if na.After(c.NotAfter) {
		na = c.NotAfter
	}
	p := profile{usages: []string{"digital signature", "ocsp signing"}, pathLen: -1, notBefore: nb, notAfter: na, ocspNoCheck: true}
	der, err := sign(caKey, caCert, p, csrPEM, serial, []string{}, subjectOverride(subj))
	if err != nil {
		return certs.Responder{}, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return certs.Responder{}, nil, fmt.Errorf("ca: parse responder certificate: %w", err)
	}
	r := certs.Responder{CA: id, DER: der, NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, CreatedAt: now.UTC()}
	if r.SealedKey, err = a.sealKey(r.Identifier(), key); err != nil {
		return certs.Responder{}, nil, err
	}
	a.log.Info("OCSP responder certificate issued", "ca", id, "responder", r.Identifier(), "not_after", r.NotAfter)
	return r, key, nil
}

// ResponderSigner opens the sealed key of responder r.
func (a *Authority) ResponderSigner(r certs.Responder) (crypto.Signer, error) {
	s, err := a.openKey(r.Identifier(), r.SealedKey)
	if err != nil {
		return nil, fmt.Errorf("ca: key of responder %s: %w", r.Identifier(), err)
	}
	return s, nil
}

// CASigner returns the signer of CA id, for responders configured to sign
// with the CA key itself.
func (a *Authority) CASigner(ctx context.Context, id certs.Identifier) (crypto.Signer, error) {
	c, err := a.store.CA(ctx, id)
	if err != nil {
		return nil, err
	}
	return a.signer(ctx, c)
}

func first(v []string) string {
	if len(v) > 0 {
		return v[0]
	}
	return ""
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
