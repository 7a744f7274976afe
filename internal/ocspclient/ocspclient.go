// Package ocspclient fetches and verifies OCSP responses, and keeps a TLS
// certificate's OCSP staple fresh: the relying-party side of certstatus,
// used by `certstatus ocsp fetch` and by servers that staple.
package ocspclient

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Fetch asks url (the certificate's AIA OCSP URL when empty) for cert's
// status, verifies the answer against issuer — signature, signer
// authorisation, matching CertID, thisUpdate not in the future, nextUpdate
// not past — and returns the DER and the parsed response. hash is the
// CertID hash (0 means SHA-1, what most servers and clients use).
func Fetch(ctx context.Context, client *http.Client, url string, cert, issuer *x509.Certificate, hash crypto.Hash) ([]byte, *ocsp.Response, error) {
	if url == "" {
		if len(cert.OCSPServer) == 0 {
			return nil, nil, errors.New("ocspclient: the certificate names no OCSP responder; give a URL")
		}
		url = cert.OCSPServer[0]
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if hash == 0 {
		hash = crypto.SHA1
	}
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: hash})
	if err != nil {
		return nil, nil, fmt.Errorf("ocspclient: request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(req))
	if err != nil {
		return nil, nil, fmt.Errorf("ocspclient: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/ocsp-request")
	hreq.Header.Set("Accept", "application/ocsp-response")
	res, err := client.Do(hreq)
	if err != nil {
		return nil, nil, fmt.Errorf("ocspclient: %s: %w", url, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("ocspclient: %s answered HTTP %d", url, res.StatusCode)
	}
	der, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("ocspclient: %s: %w", url, err)
	}
	parsed, err := Verify(der, cert, issuer, time.Now())
	if err != nil {
		return nil, nil, err
	}
	return der, parsed, nil
}

// Verify checks a DER response for cert against issuer at time now: the
// signature; a delegated signer must be issued by issuer, carry
// id-kp-OCSPSigning and be valid at now (RFC 6960 §4.2.2.2); every answer
// about cert's serial must name issuer in its CertID (so an answer about
// the same serial under another issuer can never be taken for ours); and
// thisUpdate/nextUpdate must hold at now.
func Verify(der []byte, cert, issuer *x509.Certificate, now time.Time) (*ocsp.Response, error) {
	if err := checkCertIDs(der, cert, issuer); err != nil {
		return nil, err
	}
	r, err := parse(der, cert, issuer)
	if err != nil {
		return nil, err
	}
	if r.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		return nil, errors.New("ocspclient: the response is about another serial")
	}
	if r.ThisUpdate.After(now.Add(5 * time.Minute)) {
		return nil, fmt.Errorf("ocspclient: thisUpdate %v is in the future", r.ThisUpdate)
	}
	if !r.NextUpdate.IsZero() && !now.Before(r.NextUpdate) {
		return nil, fmt.Errorf("ocspclient: the response expired at %v", r.NextUpdate)
	}
	if s := r.Certificate; s != nil && !s.Equal(issuer) {
		ok := false
		for _, u := range s.ExtKeyUsage {
			ok = ok || u == x509.ExtKeyUsageOCSPSigning
		}
		if !ok {
			return nil, errors.New("ocspclient: the response is signed by a certificate without id-kp-OCSPSigning")
		}
		if now.Before(s.NotBefore) || now.After(s.NotAfter) {
			return nil, fmt.Errorf("ocspclient: the responder certificate is not valid at %v", now)
		}
	}
	return r, nil
}

// parse reads der for cert and verifies its signature by issuer or by a
// delegated responder issuer signed. x/crypto's ParseResponseForCert takes
// any embedded certificate for a delegated responder and asks issuer to
// have signed it, so it refuses an answer the CA signed itself and
// includes its own certificate in (as certstatus does, for Apache): its
// signature is checked with that certificate here, which must be issuer
// (golang/go#59641).
func parse(der []byte, cert, issuer *x509.Certificate) (*ocsp.Response, error) {
	// Without an issuer, x/crypto checks the signature with the embedded
	// certificate when there is one, and not at all otherwise.
	r, err := ocsp.ParseResponseForCert(der, cert, nil)
	if err != nil {
		return nil, fmt.Errorf("ocspclient: response: %w", err)
	}
	switch s := r.Certificate; {
	case s == nil:
		err = r.CheckSignatureFrom(issuer)
	case s.Equal(issuer):
		// Signed by the key of issuer's own certificate: checked above.
	default:
		err = issuer.CheckSignature(s.SignatureAlgorithm, s.RawTBSCertificate, s.Signature)
	}
	if err != nil {
		return nil, fmt.Errorf("ocspclient: response: bad OCSP signature: %w", err)
	}
	return r, nil
}

// Stapler keeps an OCSP staple for a TLS certificate: it fetches one at
// start and again when half of the current one's validity has passed, and
// serves the certificate with the latest good staple.
type Stapler struct {
	url    string
	issuer *x509.Certificate
	leaf   *x509.Certificate
	client *http.Client
	log    *slog.Logger

	mu      sync.RWMutex
	cert    tls.Certificate
	next    time.Time // when to refresh
	expires time.Time // the staple's nextUpdate
}

// NewStapler returns a Stapler for cert (whose Leaf or first Certificate is
// the leaf) issued by issuer. url may be empty to use the AIA URL.
func NewStapler(cert tls.Certificate, issuer *x509.Certificate, url string, log *slog.Logger) (*Stapler, error) {
	leaf := cert.Leaf
	if leaf == nil {
		if len(cert.Certificate) == 0 {
			return nil, errors.New("ocspclient: empty certificate")
		}
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, err
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Stapler{url: url, issuer: issuer, leaf: leaf, cert: cert, client: &http.Client{Timeout: 10 * time.Second}, log: log}, nil
}

// Refresh fetches a new staple now; on failure the old one is kept.
func (s *Stapler) Refresh(ctx context.Context) error {
	der, r, err := Fetch(ctx, s.client, s.url, s.leaf, s.issuer, 0)
	if err != nil {
		return err
	}
	if r.Status == ocsp.Unknown {
		return errors.New("ocspclient: the responder does not know the certificate; keeping the previous staple")
	}
	half := r.ThisUpdate.Add(r.NextUpdate.Sub(r.ThisUpdate) / 2)
	s.mu.Lock()
	s.cert.OCSPStaple = der
	s.next = half
	s.expires = r.NextUpdate
	s.mu.Unlock()
	s.log.Info("OCSP staple refreshed", "serial", s.leaf.SerialNumber.Text(16), "status", r.Status, "next_update", r.NextUpdate)
	return nil
}

// Run refreshes the staple at half-life (retrying every minute on
// failure) until ctx ends.
func (s *Stapler) Run(ctx context.Context) {
	for {
		wait := time.Minute
		if err := s.Refresh(ctx); err != nil {
			s.log.Warn("OCSP staple refresh failed; keeping the old one", "err", err)
		} else {
			s.mu.RLock()
			wait = time.Until(s.next)
			s.mu.RUnlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(wait, time.Second)):
		}
	}
}

// GetCertificate is a tls.Config.GetCertificate serving the certificate
// with its current staple — none once the staple's nextUpdate has passed
// (clients that enforce stapling reject an expired one).
func (s *Stapler) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.cert
	if !s.expires.IsZero() && !time.Now().Before(s.expires) {
		c.OCSPStaple = nil
	}
	return &c, nil
}
