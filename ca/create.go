package ca

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"github.com/certstatus/certstatus/certs"
)

func checkCASubject(s certs.Subject) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.CommonName == "" || s.Organization == "" || s.Country == "" {
		return fmt.Errorf("%w subject: a CA needs a common name (CN), organization (O) and country (C) (RFC 5280 §4.1.2.6, BR 7.1.4.3)", certs.ErrInvalid)
	}
	return nil
}

// CreateRoot creates and stores a self-signed root CA.
func (a *Authority) CreateRoot(ctx context.Context, req certs.RootRequest) (certs.CA, error) {
	if req.Subject.Country == "" {
		req.Subject.Country = certs.DefaultCountry
	}
	if err := checkCASubject(req.Subject); err != nil {
		return certs.CA{}, err
	}
	pathLen := req.PathLen
	if pathLen <= 0 {
		pathLen = -1
	}
	now := a.opts.Now()
	nb, na, err := req.Validity.Window(now, time.Time{}, time.Time{})
	if err != nil {
		return certs.CA{}, err
	}
	key, err := generate(req.Algorithm)
	if err != nil {
		return certs.CA{}, err
	}
	csrPEM, err := makeCSR(key, req.Subject, nil)
	if err != nil {
		return certs.CA{}, err
	}
	serial, err := newSerial()
	if err != nil {
		return certs.CA{}, err
	}
	p := profile{usages: caUsages, isCA: true, pathLen: pathLen, notBefore: nb, notAfter: na}
	der, err := sign(key, nil, p, csrPEM, serial, nil, nil)
	if err != nil {
		return certs.CA{}, err
	}
	c, err := a.storeCA(ctx, der, key, "", certs.KindRootCA, req.Alias, req.Tags)
	if err == nil {
		a.caChanged(ctx, c)
		a.log.Info("root CA created", logActor(ctx, "ca", c.Identifier, "subject", req.Subject.CommonName, "not_after", c.NotAfter)...)
	}
	return c, err
}

// CreateSub creates and stores a sub CA signed by req.Parent, which must be
// able to issue (unrevoked, enabled, valid) and allow one more CA level.
//
// A subject without a country inherits the parent's. ExtKeyUsages, when
// given, go into the new CA's certificate (as they are: zlint and the BRs
// forbid id-kp-OCSPSigning beside serverAuth in a CA) and limit what it
// signs, as CertMaxDays caps their validity; each usage must be allowed by
// every CA above it.
func (a *Authority) CreateSub(ctx context.Context, req certs.SubRequest) (certs.CA, error) {
	if req.CertMaxDays < 0 || req.CertMaxDays > 100*366 {
		return certs.CA{}, fmt.Errorf("%w CertMaxDays %d: want 1 to 36600 days, or 0 for no cap", certs.ErrInvalid, req.CertMaxDays)
	}
	var ekus []certs.EKU
	for _, u := range req.ExtKeyUsages {
		e, err := certs.ParseEKU(string(u))
		if err != nil {
			return certs.CA{}, err
		}
		if !slices.Contains(ekus, e) {
			ekus = append(ekus, e)
		}
	}
	now := a.opts.Now()
	chain, parentCert, parentKey, err := a.issuer(ctx, req.Parent, now)
	if err != nil {
		return certs.CA{}, err
	}
	parent := chain[0]
	if req.Subject.Country == "" && len(parentCert.Subject.Country) > 0 {
		req.Subject.Country = parentCert.Subject.Country[0]
	}
	if err := checkCASubject(req.Subject); err != nil {
		return certs.CA{}, err
	}
	for _, c := range chain {
		for _, e := range ekus {
			if !c.AllowsEKU(e) {
				return certs.CA{}, fmt.Errorf("%w: CA %s is limited to the extended key usages %v and may not sign a CA for %s", certs.ErrInvalid, c.Identifier, c.ExtKeyUsages, e)
			}
		}
	}
	if req.PathLen < 0 {
		return certs.CA{}, fmt.Errorf("%w path length %d: a sub CA needs 0 or more", certs.ErrInvalid, req.PathLen)
	}
	if parent.PathLen == 0 {
		return certs.CA{}, fmt.Errorf("%w: CA %s has path length 0 and may not sign CAs", certs.ErrIssuerUnusable, parent.Identifier)
	}
	if parent.PathLen > 0 && req.PathLen >= parent.PathLen {
		return certs.CA{}, fmt.Errorf("%w path length %d: must be below the parent's %d", certs.ErrInvalid, req.PathLen, parent.PathLen)
	}
	nb, na, err := req.Validity.Window(now, parent.NotBefore, parent.NotAfter)
	if err != nil {
		return certs.CA{}, err
	}
	key, err := generate(req.Algorithm)
	if err != nil {
		return certs.CA{}, err
	}
	csrPEM, err := makeCSR(key, req.Subject, nil)
	if err != nil {
		return certs.CA{}, err
	}
	serial, err := newSerial()
	if err != nil {
		return certs.CA{}, err
	}
	usages := caUsages
	if len(ekus) > 0 {
		usages = slices.Clone(caUsages)
		for _, e := range ekus {
			usages = append(usages, ekuUsage[e])
		}
	}
	p := profile{
		usages: usages, isCA: true, pathLen: req.PathLen, notBefore: nb, notAfter: na,
		ocspURL: a.opts.OCSPURL, crlURL: a.crlURL(parent.Identifier), issuerURL: a.issuerURL(parent.Identifier),
		anyPolicy: true,
	}
	der, err := sign(parentKey, parentCert, p, csrPEM, serial, nil, nil)
	if err != nil {
		return certs.CA{}, err
	}
	c, err := a.storeCA(ctx, der, key, parent.Identifier, certs.KindSubCA, req.Alias, req.Tags, func(c *certs.CA) {
		c.ExtKeyUsages, c.CertMaxDays = ekus, req.CertMaxDays
	})
	if err == nil {
		a.caChanged(ctx, c)
		a.log.Info("sub CA created", logActor(ctx, "ca", c.Identifier, "parent", parent.Identifier, "subject", req.Subject.CommonName, "not_after", c.NotAfter)...)
	}
	return c, err
}

func (a *Authority) storeCA(ctx context.Context, der []byte, key crypto.Signer, parent certs.Identifier, kind certs.Kind, alias string, tags []certs.Tag, set ...func(*certs.CA)) (certs.CA, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return certs.CA{}, fmt.Errorf("ca: parse issued CA: %w", err)
	}
	id := certs.IdentifierOf(der)
	sealed, err := a.sealKey(id, key)
	if err != nil {
		return certs.CA{}, err
	}
	pathLen := -1
	if cert.MaxPathLen > 0 || cert.MaxPathLenZero {
		pathLen = cert.MaxPathLen
	}
	c := certs.CA{
		Identifier: id,
		Parent:     parent,
		Kind:       kind,
		Serial:     certs.SerialFromBig(cert.SerialNumber),
		DER:        der,
		NotBefore:  cert.NotBefore,
		NotAfter:   cert.NotAfter,
		PathLen:    pathLen,
		State:      certs.StateIssued,
		Alias:      alias,
		Tags:       tags,
		SealedKey:  sealed,
		CreatedAt:  a.opts.Now().UTC(),
	}
	for _, f := range set {
		f(&c)
	}
	if err := a.store.PutCA(ctx, c); err != nil {
		return certs.CA{}, err
	}
	a.signers.Store(id, key)
	return c, nil
}

func isRSA(pub crypto.PublicKey) bool {
	_, ok := pub.(*rsa.PublicKey)
	return ok
}
