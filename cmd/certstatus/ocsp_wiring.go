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

// ensureResponders issues or rotates the delegated responder certificate
// of every CA that signs OCSP with one (not with --ocsp-sign-with-ca):
// when it is missing or would expire within validity + a day (so no
// response outlives it), unless it already lasts as long as the CA. It is
// the write side of OCSP signers — a CA signature and a durable write —
// and runs at start, after a CA is created or changed, and every refresh
// interval; never from a request.
func (s *service) ensureResponders(ctx context.Context, o ocspSettings) error {
	if o.signWithCA {
		return nil
	}
	ctx = certs.WithActor(ctx, certs.Actor{Who: "system:ocsp"})
	cas, err := s.store.CAs(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, c := range cas {
		if len(c.SealedKey) == 0 || c.State != certs.StateIssued || !now.Before(c.NotAfter) {
			continue // no key to sign with, or a CA that signs with its own key now
		}
		r, err := s.store.Responder(ctx, c.Identifier)
		if err != nil && !errors.Is(err, certs.ErrNotFound) {
			return err
		}
		if err == nil && (r.NotAfter.Sub(now) >= o.validity+24*time.Hour || !r.NotAfter.Before(c.NotAfter)) {
			continue
		}
		nr, _, err := s.ca.IssueResponder(ctx, c.Identifier, o.responderValidity)
		if err != nil {
			return err
		}
		if err := s.store.PutResponder(ctx, nr); err != nil {
			return err
		}
	}
	return nil
}

// issuers returns every CA with its OCSP signer, reading only: the
// responder calls it when it reloads, also when a request names an issuer
// it does not know, so it must never write (ensureResponders does). A CA
// that should have a delegated responder and has none yet is left out —
// answered as an issuer certstatus does not serve — until
// ensureResponders has made one.
func (s *service) issuers(ctx context.Context, o ocspSettings) ([]responder.Issuer, error) {
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
		if err != nil || !now.Before(r.NotAfter) {
			if c.State == certs.StateIssued && now.Before(c.NotAfter) {
				s.log.Warn("CA has no valid OCSP responder certificate yet; not answering for it until one is issued", "ca", c.Identifier)
				continue
			}
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
	if err := s.ensureResponders(ctx, o); err != nil {
		return nil, err
	}
	return responder.New(ctx, s.store, &responder.Options{Validity: o.validity, ByName: o.byName, Logger: s.log,
		Issuers: func(ctx context.Context) ([]responder.Issuer, error) { return s.issuers(ctx, o) }})
}

// presigner lets the CA pre-sign OCSP answers through a responder that is
// created after the CA (the responder needs the CA for its certificates).
type presigner struct {
	r atomic.Pointer[responder.Responder]
	// ensure issues the responder certificates a CA change needs (the
	// service's ensureResponders), before the responder reloads.
	ensure atomic.Pointer[func(context.Context) error]
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
		if ensure := p.ensure.Load(); ensure != nil {
			if err := (*ensure)(ctx); err != nil {
				log.Error("OCSP responder certificate after a CA change", "ca", c.Identifier, "err", err)
			}
		}
		if r := p.r.Load(); r != nil {
			if err := r.Reload(ctx); err != nil {
				log.Warn("OCSP issuer reload after a CA change failed", "ca", c.Identifier, "err", err)
			}
		}
	}
}

// rotateResponders runs ensure every refresh interval and has the
// responder pick up what it issued, until ctx ends.
func (s *service) rotateResponders(ctx context.Context, rsp *responder.Responder, ensure func(context.Context) error) {
	t := time.NewTicker(rsp.RefreshInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := ensure(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("OCSP responder certificate rotation failed", "err", err)
			continue
		}
		if err := rsp.Reload(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("OCSP issuer reload failed", "err", err)
		}
	}
}
