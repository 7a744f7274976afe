package main

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/responder"
)

// ocspSettings are the parsed OCSP settings of serve.
type ocspSettings struct {
	validity, responderValidity time.Duration
	refreshAfter                time.Duration // 0: the responder's default
	refreshShare                float64
	signWithCA, byName          bool
	unknownAsRevoked            bool
	maxLive                     int
	prefix                      string
	quickHTTP                   bool
}

// ocspSettingsOf takes serve's OCSP settings from a resolved Config
// (checked there).
func ocspSettingsOf(c *Config) ocspSettings {
	return ocspSettings{
		validity:          c.OCSPValidity,
		responderValidity: c.OCSPResponderValidity,
		refreshAfter:      c.OCSPRefreshAfter,
		refreshShare:      c.OCSPRefreshShare,
		signWithCA:        c.OCSPSignWithCA,
		byName:            c.OCSPResponderID == "byName",
		unknownAsRevoked:  c.OCSPUnknown == "revoked",
		maxLive:           c.OCSPMaxLive,
		prefix:            c.OCSPPathPrefix,
		quickHTTP:         c.OCSPQuickHTTP,
	}
}

// issuers returns every CA with its OCSP signer, issuing or rotating the
// delegated responder certificate when it is missing or would expire
// within validity + a day (so no response outlives it).
func (s *service) issuers(ctx context.Context, o ocspSettings) ([]responder.Issuer, error) {
	ctx = certs.WithActor(ctx, certs.Actor{Who: "system:ocsp"})
	cas, err := s.store.CAs(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []responder.Issuer
	for _, c := range cas {
		if len(c.SealedKey) == 0 {
			// An imported CA without its key: certstatus answers about it
			// (its parent does) but cannot sign for its certificates.
			continue
		}
		cert, err := c.Certificate()
		if err != nil {
			return nil, err
		}
		is := responder.Issuer{ID: c.Identifier, Cert: cert}
		if o.signWithCA {
			if is.Signer, err = s.ca.CASigner(ctx, c.Identifier); err != nil {
				return nil, err
			}
			out = append(out, is)
			continue
		}
		r, err := s.store.Responder(ctx, c.Identifier)
		if err != nil && !errors.Is(err, certs.ErrNotFound) {
			return nil, err
		}
		// Renew when the responder would cut responses short — unless it
		// already lasts as long as the CA (a new one could not outlive it).
		renew := err != nil || (r.NotAfter.Sub(now) < o.validity+24*time.Hour && r.NotAfter.Before(c.NotAfter))
		if renew && c.State == certs.StateIssued && now.Before(c.NotAfter) {
			nr, _, ierr := s.ca.IssueResponder(ctx, c.Identifier, o.responderValidity)
			if ierr != nil {
				return nil, ierr
			}
			if err := s.store.PutResponder(ctx, nr); err != nil {
				return nil, err
			}
			r, err = nr, nil
		}
		if err != nil || !now.Before(r.NotAfter) {
			// A revoked or expired CA with no valid responder left signs
			// with its own key.
			if is.Signer, err = s.ca.CASigner(ctx, c.Identifier); err != nil {
				return nil, err
			}
			out = append(out, is)
			continue
		}
		if is.SignerCert, err = (certs.CA{DER: r.DER}).Certificate(); err != nil {
			return nil, err
		}
		if is.Signer, err = s.ca.ResponderSigner(r); err != nil {
			return nil, err
		}
		out = append(out, is)
	}
	return out, nil
}

// offlineResponder is a responder for pre-signing answers outside serve
// (imports). Its OCSP settings are serve's defaults: a server started with
// others serves these answers until its refresh pass re-signs them.
func (s *service) offlineResponder(ctx context.Context) (*responder.Responder, error) {
	c, err := defaultConfig(true)
	if err != nil {
		return nil, err
	}
	o := ocspSettingsOf(c)
	return responder.New(ctx, s.store, &responder.Options{Validity: o.validity, ByName: o.byName, Logger: s.log,
		Issuers: func(ctx context.Context) ([]responder.Issuer, error) { return s.issuers(ctx, o) }})
}

// presigner lets the CA pre-sign OCSP answers through a responder that is
// created after the CA (the responder needs the CA for its certificates).
type presigner struct {
	r atomic.Pointer[responder.Responder]
}

func (p *presigner) presign(ctx context.Context, rec certs.Record) ([]certs.OCSPResponse, error) {
	r := p.r.Load()
	if r == nil {
		return nil, errors.New("OCSP responder not started")
	}
	return r.Presign(ctx, rec)
}

// caChanged reloads the responder's issuers when a CA is created or its
// status changes, so OCSP answers for it at once.
func (p *presigner) caChanged(log *slog.Logger) func(context.Context, certs.CA) {
	return func(ctx context.Context, c certs.CA) {
		if r := p.r.Load(); r != nil {
			if err := r.Reload(ctx); err != nil {
				log.Warn("OCSP issuer reload after a CA change failed", "ca", c.Identifier, "err", err)
			}
		}
	}
}
