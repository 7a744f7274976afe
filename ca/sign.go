package ca

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/cloudflare/cfssl/config"
	"github.com/cloudflare/cfssl/csr"
	"github.com/cloudflare/cfssl/signer"
	"github.com/cloudflare/cfssl/signer/local"

	"github.com/certstatus/certstatus/certs"
)

// profile describes what cfssl's signer must put in one certificate.
type profile struct {
	usages    []string
	isCA      bool
	pathLen   int // -1: no constraint
	ocspURL   string
	issuerURL string
	crlURL    string
	notBefore time.Time
	notAfter  time.Time
	// anyPolicy adds certificatePolicies anyPolicy (2.5.29.32.0), which
	// RFC 5280 §4.2.1.4 and the CA/B BRs expect in a sub CA.
	anyPolicy bool
	// ocspNoCheck adds id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1) to a
	// delegated responder certificate.
	ocspNoCheck bool
}

func (p profile) cfssl() *config.Signing {
	sp := &config.SigningProfile{
		Usage:                       p.usages,
		OCSP:                        p.ocspURL,
		CRL:                         p.crlURL,
		IssuerURL:                   nonEmpty(p.issuerURL),
		OCSPNoCheck:                 p.ocspNoCheck,
		Expiry:                      p.notAfter.Sub(p.notBefore),
		ClientProvidesSerialNumbers: true,
		CAConstraint: config.CAConstraint{
			IsCA:           p.isCA,
			MaxPathLen:     p.pathLen,
			MaxPathLenZero: p.isCA && p.pathLen == 0,
		},
		// LintErrLevel stays 0: cfssl's pre-issuance lint is broken on
		// current Go (cfssl#1230); zlint runs in our tests instead.
	}
	if p.anyPolicy {
		sp.Policies = []config.CertificatePolicy{{ID: config.OID{2, 5, 29, 32, 0}}}
	}
	return &config.Signing{Default: sp, Profiles: map[string]*config.SigningProfile{}}
}

// sign issues a certificate for csrPEM with cfssl's local signer. caCert
// nil means self-signed (a root). hosts, when non-nil, replaces the CSR's
// SANs; subject, when non-nil, overrides the CSR's subject field by field.
func sign(key crypto.Signer, caCert *x509.Certificate, p profile, csrPEM []byte, serial *big.Int, hosts []string, subject *signer.Subject) ([]byte, error) {
	s, err := local.NewSigner(key, caCert, signer.DefaultSigAlgo(key), p.cfssl())
	if err != nil {
		return nil, fmt.Errorf("ca: signer: %w", err)
	}
	certPEM, err := s.Sign(signer.SignRequest{
		Request:   string(csrPEM),
		Hosts:     hosts,
		Subject:   subject,
		Serial:    serial,
		NotBefore: p.notBefore,
		NotAfter:  p.notAfter,
	})
	if err != nil {
		return nil, fmt.Errorf("ca: sign: %w", err)
	}
	b, _ := pem.Decode(certPEM)
	if b == nil {
		return nil, fmt.Errorf("ca: sign: signer returned no PEM")
	}
	return b.Bytes, nil
}

// makeCSR builds the PEM CSR cfssl signs for a key the CA generated.
func makeCSR(key crypto.Signer, subj certs.Subject, hosts []string) ([]byte, error) {
	req := cfsslRequest(subj)
	req.Hosts = hosts
	out, err := csr.Generate(key, req)
	if err != nil {
		return nil, fmt.Errorf("ca: CSR: %w", err)
	}
	return out, nil
}

// leafUsages are the key usages of a leaf: digitalSignature always, and
// keyEncipherment only for an RSA server key (RSA key transport in TLS);
// a client only signs, and an ECDSA key cannot encipher.
func leafUsages(pub crypto.PublicKey, server bool) []string {
	if !server {
		return []string{"digital signature", "client auth"}
	}
	u := []string{"digital signature", "server auth"}
	if isRSA(pub) {
		u = append(u, "key encipherment")
	}
	return u
}

// caUsages lets a CA sign certificates, CRLs and (as the CA-key option of
// the responder) OCSP responses.
var caUsages = []string{"cert sign", "crl sign", "digital signature"}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
