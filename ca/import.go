package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/certstatus/certstatus/certs"
)

// ImportCA stores an existing CA certificate — and its key when key is not
// nil — so that certstatus answers for the certificates it issued (a
// migration from OpenSSL or cfssl). A self-signed certificate becomes a
// root; any other needs its issuer stored first (import the chain from the
// root down). Without a key the CA can be a parent and be answered about,
// but cannot sign (no OCSP answers or CRLs for its certificates). Importing
// a stored CA again returns it; with a key it did not have, the key is
// refused (keys are sealed at creation only). created reports a new CA.
func (a *Authority) ImportCA(ctx context.Context, der []byte, key crypto.Signer) (c certs.CA, created bool, err error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return c, false, fmt.Errorf("%w CA certificate: %v", certs.ErrInvalid, err)
	}
	if !cert.IsCA || !cert.BasicConstraintsValid || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return c, false, fmt.Errorf("%w: %s is not a CA certificate (basicConstraints CA:TRUE with keyCertSign)", certs.ErrInvalid, cert.Subject)
	}
	if key != nil && !publicKeysEqual(key.Public(), cert.PublicKey) {
		return c, false, fmt.Errorf("%w: the key does not match the CA certificate %s", certs.ErrInvalid, cert.Subject)
	}
	id := certs.IdentifierOf(der)
	if existing, err := a.store.CA(ctx, id); err == nil {
		if key != nil && len(existing.SealedKey) == 0 {
			return existing, false, fmt.Errorf("%w: CA %s is stored without a key; keys can only be imported with the CA", certs.ErrExists, id)
		}
		return existing, false, nil
	} else if !errors.Is(err, certs.ErrNotFound) {
		return c, false, err
	}
	c = certs.CA{Identifier: id, Kind: certs.KindRootCA, Serial: certs.SerialFromBig(cert.SerialNumber), DER: der,
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, PathLen: -1, State: certs.StateIssued, CreatedAt: a.opts.Now().UTC()}
	if cert.MaxPathLen > 0 || cert.MaxPathLenZero {
		c.PathLen = cert.MaxPathLen
	}
	selfSigned := bytes.Equal(cert.RawIssuer, cert.RawSubject) && cert.CheckSignatureFrom(cert) == nil
	if !selfSigned {
		cas, err := a.store.CAs(ctx)
		if err != nil {
			return c, false, err
		}
		for _, p := range cas {
			pc, err := p.Certificate()
			if err == nil && bytes.Equal(pc.RawSubject, cert.RawIssuer) && cert.CheckSignatureFrom(pc) == nil {
				c.Kind, c.Parent = certs.KindSubCA, p.Identifier
				break
			}
		}
		if c.Parent == "" {
			return c, false, fmt.Errorf("%w: the issuer of %s (%s) is not stored; import it first", certs.ErrNotFound, cert.Subject, cert.Issuer)
		}
	}
	if key != nil {
		if c.SealedKey, err = a.sealKey(id, key); err != nil {
			return c, false, err
		}
	}
	if err := a.store.PutCA(ctx, c); err != nil {
		return c, false, err
	}
	if key != nil {
		a.signers.Store(id, key)
	}
	a.caChanged(ctx, c)
	a.log.Info("CA imported", "ca", id, "kind", c.Kind, "subject", cert.Subject.String(), "with_key", key != nil)
	return c, true, nil
}
