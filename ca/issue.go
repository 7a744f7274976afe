package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"net"
	"strings"

	"github.com/cloudflare/cfssl/csr"
	"github.com/cloudflare/cfssl/signer"

	"github.com/certstatus/certstatus/certs"
)

var oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}

// parseCSR accepts one PEM CERTIFICATE REQUEST or raw DER, verifies its
// signature and key, and refuses a CSR that asks to be a CA.
func parseCSR(data []byte) (*x509.CertificateRequest, error) {
	der := data
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "CERTIFICATE REQUEST" && b.Type != "NEW CERTIFICATE REQUEST" {
			return nil, fmt.Errorf("%w: PEM block is %q, want CERTIFICATE REQUEST", certs.ErrBadCSR, b.Type)
		}
		der = b.Bytes
	} else if strings.Contains(string(data), "-----BEGIN") {
		return nil, fmt.Errorf("%w: PEM does not decode", certs.ErrBadCSR)
	}
	if len(der) == 0 {
		return nil, fmt.Errorf("%w: empty", certs.ErrBadCSR)
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", certs.ErrBadCSR, err)
	}
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: signature does not verify: %v", certs.ErrBadCSR, err)
	}
	if err := checkPublicKey(req.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: %v", certs.ErrBadCSR, err)
	}
	for _, ext := range req.Extensions {
		if !ext.Id.Equal(oidBasicConstraints) {
			continue
		}
		var bc struct {
			IsCA bool `asn1:"optional"`
		}
		if _, err := asn1.Unmarshal(ext.Value, &bc); err != nil {
			return nil, fmt.Errorf("%w: basicConstraints: %v", certs.ErrBadCSR, err)
		}
		if bc.IsCA {
			return nil, fmt.Errorf("%w: it asks for a CA certificate; create sub CAs with ca create-sub", certs.ErrBadCSR)
		}
	}
	return req, nil
}

// Issue signs and stores a CLIENT or SERVER certificate.
func (a *Authority) Issue(ctx context.Context, req certs.IssueRequest) (certs.Issued, error) {
	if req.Kind != certs.KindClient && req.Kind != certs.KindServer {
		return certs.Issued{}, fmt.Errorf("%w kind %v: issue CLIENT or SERVER certificates", certs.ErrInvalid, req.Kind)
	}
	if err := req.Subject.Validate(); err != nil {
		return certs.Issued{}, err
	}
	if err := req.SANs.Validate(); err != nil {
		return certs.Issued{}, err
	}
	if err := certs.ValidateCustomIdentifier(req.CustomIdentifier); err != nil {
		return certs.Issued{}, err
	}

	var (
		key    crypto.Signer // nil for a CSR
		pub    crypto.PublicKey
		csrPEM []byte
		sans   = req.SANs
		subj   = req.Subject
		err    error
	)
	if len(req.CSR) > 0 {
		if req.Algorithm != "" {
			return certs.Issued{}, fmt.Errorf("%w: an algorithm cannot be chosen for a CSR; the key is the CSR's", certs.ErrInvalid)
		}
		c, err := parseCSR(req.CSR)
		if err != nil {
			return certs.Issued{}, err
		}
		pub = c.PublicKey
		csrPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: c.Raw})
		subj = mergeSubject(subj, c)
		if err := subj.Validate(); err != nil {
			return certs.Issued{}, fmt.Errorf("%w: %v", certs.ErrBadCSR, err)
		}
		if sans.Empty() {
			sans = certs.SANs{DNSNames: c.DNSNames, IPs: c.IPAddresses, Emails: c.EmailAddresses, URIs: c.URIs}
			if err := sans.Validate(); err != nil {
				return certs.Issued{}, fmt.Errorf("%w: %v", certs.ErrBadCSR, err)
			}
		}
	} else if req.Algorithm == "" {
		req.Algorithm = certs.ECC256
	} else if _, ok := algorithms[req.Algorithm]; !ok {
		if _, err := certs.ParseAlgorithm(string(req.Algorithm)); err != nil {
			return certs.Issued{}, err
		}
	}

	sans, err = completeSANs(req.Kind, subj, sans)
	if err != nil {
		return certs.Issued{}, err
	}

	now := a.opts.Now()
	chain, caCert, caKey, err := a.issuer(ctx, req.Issuer, now)
	if err != nil {
		return certs.Issued{}, err
	}
	if chain[0].Kind != certs.KindSubCA {
		return certs.Issued{}, fmt.Errorf("%w: CA %s is a root; roots sign only sub CAs, issue from a sub CA", certs.ErrIssuerUnusable, req.Issuer)
	}
	nb, na, err := req.Validity.Window(now, chain[0].NotBefore, chain[0].NotAfter)
	if err != nil {
		return certs.Issued{}, err
	}
	ekus := []certs.EKU{certs.EKUOf(req.Kind)}
	custom := len(req.KeyUsages) > 0 || len(req.ExtKeyUsages) > 0
	if custom {
		if len(req.ExtKeyUsages) == 0 {
			// No EKU extension would let the certificate serve every
			// purpose, whatever it was issued for.
			return certs.Issued{}, fmt.Errorf("%w: a certificate with its own key usages must name at least one extended key usage; one without would be valid for every purpose", certs.ErrInvalid)
		}
		ekus = req.ExtKeyUsages
	}
	if err := checkChain(chain, ekus, nb, na); err != nil {
		return certs.Issued{}, err
	}

	if key == nil && len(req.CSR) == 0 {
		if key, err = generate(req.Algorithm); err != nil {
			return certs.Issued{}, err
		}
		pub = key.Public()
	}
	p := profile{
		usages: leafUsages(pub, req.Kind == certs.KindServer), pathLen: -1, notBefore: nb, notAfter: na,
		ocspURL: a.opts.OCSPURL, crlURL: a.crlURL(chain[0].Identifier), issuerURL: a.issuerURL(chain[0].Identifier),
	}
	if custom {
		if p.usages, err = customUsages(req.KeyUsages, req.ExtKeyUsages); err != nil {
			return certs.Issued{}, err
		}
	}
	if req.OmitCRL {
		p.crlURL = ""
	}
	serial, err := newSerial()
	if err != nil {
		return certs.Issued{}, err
	}
	hosts := sans.Hosts()
	if hosts == nil {
		hosts = []string{} // non-nil: replace whatever the CSR asked for
	}
	if csrPEM == nil { // a key the CA generated: its CSR is signed like any other
		if csrPEM, err = makeCSR(key, subj, hosts); err != nil {
			return certs.Issued{}, err
		}
	}
	der, err := sign(caKey, caCert, p, csrPEM, serial, hosts, subjectOverride(subj))
	if err != nil {
		return certs.Issued{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return certs.Issued{}, fmt.Errorf("ca: parse issued certificate: %w", err)
	}
	rec := certs.Record{
		Identifier:       certs.IdentifierOf(der),
		Issuer:           chain[0].Identifier,
		Serial:           certs.SerialFromBig(cert.SerialNumber),
		Kind:             req.Kind,
		DER:              der,
		NotBefore:        cert.NotBefore,
		NotAfter:         cert.NotAfter,
		State:            certs.StateIssued,
		Alias:            req.Alias,
		CustomIdentifier: req.CustomIdentifier,
		ResourceGroupID:  req.ResourceGroupID,
		Tags:             req.Tags,
		CreatedAt:        now.UTC(),
	}
	out := certs.Issued{Chain: chain}
	if key != nil {
		p8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return certs.Issued{}, fmt.Errorf("ca: marshal key: %w", err)
		}
		if rec.SealedKey, err = a.sealer.Seal([]byte(rec.Identifier), p8); err != nil {
			return certs.Issued{}, err
		}
		out.KeyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})
	}
	if err := a.store.Put(ctx, rec, a.presign(ctx, rec)...); err != nil {
		return certs.Issued{}, err
	}
	out.Record = rec
	a.log.Info("certificate issued", logActor(ctx, "id", rec.Identifier, "kind", rec.Kind, "issuer", rec.Issuer, "serial", rec.Serial, "not_after", rec.NotAfter)...)
	return out, nil
}

// mergeSubject fills the empty fields of s from the CSR's subject.
func mergeSubject(s certs.Subject, c *x509.CertificateRequest) certs.Subject {
	first := func(v []string) string {
		if len(v) > 0 {
			return v[0]
		}
		return ""
	}
	n := c.Subject
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&s.CommonName, n.CommonName)
	fill(&s.Country, first(n.Country))
	fill(&s.State, first(n.Province))
	fill(&s.Locality, first(n.Locality))
	fill(&s.Organization, first(n.Organization))
	fill(&s.OrganizationalUnit, first(n.OrganizationalUnit))
	return s
}

// subjectOverride makes cfssl use exactly subj, whatever the CSR says.
func subjectOverride(s certs.Subject) *signer.Subject {
	return &signer.Subject{
		CN: s.CommonName,
		Names: []csr.Name{{
			C: s.Country, ST: s.State, L: s.Locality, O: s.Organization, OU: s.OrganizationalUnit,
		}},
	}
}

// completeSANs applies the per-kind rules: a SERVER certificate needs a DNS
// name or IP address (the common name is used when it is one); any
// certificate needs a common name or a SAN.
func completeSANs(kind certs.Kind, subj certs.Subject, s certs.SANs) (certs.SANs, error) {
	if kind == certs.KindServer && len(s.DNSNames) == 0 && len(s.IPs) == 0 {
		cn := subj.CommonName
		switch {
		case cn == "":
			return s, fmt.Errorf("%w: a SERVER certificate needs at least one DNS name or IP address", certs.ErrInvalid)
		case net.ParseIP(cn) != nil:
			s.IPs = append(s.IPs, net.ParseIP(cn))
		case certs.CheckDNSName(cn) == nil:
			s.DNSNames = append(s.DNSNames, strings.ToLower(cn))
		default:
			return s, fmt.Errorf("%w: a SERVER certificate needs at least one DNS name or IP address (common name %q is neither)", certs.ErrInvalid, cn)
		}
	}
	if subj.CommonName == "" && s.Empty() {
		return s, fmt.Errorf("%w: a certificate needs a common name or a subject alternative name", certs.ErrInvalid)
	}
	return s, nil
}
