package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
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

func parseOCSPSettings(c *Config) (ocspSettings, error) {
	var o ocspSettings
	var err error
	if o.validity, err = time.ParseDuration(c.OCSPValidity); err != nil {
		return o, fmt.Errorf("config: ocsp-validity %q: %w", c.OCSPValidity, err)
	}
	if o.validity < responder.MinValidity || o.validity > responder.MaxValidity {
		return o, fmt.Errorf("config: ocsp-validity %v is outside 8h..168h (CA/B BRs, Microsoft root program)", o.validity)
	}
	if c.OCSPRefreshAfter != "" {
		if o.refreshAfter, err = time.ParseDuration(c.OCSPRefreshAfter); err != nil {
			return o, fmt.Errorf("config: ocsp-refresh-after %q: %w", c.OCSPRefreshAfter, err)
		}
		if o.refreshAfter < time.Minute || o.refreshAfter > o.validity/2 {
			return o, fmt.Errorf("config: ocsp-refresh-after %v is outside 1m..%v (half of ocsp-validity)", o.refreshAfter, o.validity/2)
		}
	}
	if o.refreshShare, err = strconv.ParseFloat(c.OCSPRefreshShare, 64); err != nil || o.refreshShare < 0.01 || o.refreshShare > 1 {
		return o, fmt.Errorf("config: ocsp-refresh-share %q: want a number from 0.01 to 1", c.OCSPRefreshShare)
	}
	if o.responderValidity, err = time.ParseDuration(c.OCSPResponderValidity); err != nil {
		return o, fmt.Errorf("config: ocsp-responder-validity %q: %w", c.OCSPResponderValidity, err)
	}
	if o.responderValidity < 2*o.validity {
		return o, fmt.Errorf("config: ocsp-responder-validity %v must be at least twice ocsp-validity (%v), so responses never outlive their signer", o.responderValidity, o.validity)
	}
	if o.signWithCA, err = strconv.ParseBool(c.OCSPSignWithCA); err != nil {
		return o, fmt.Errorf("config: ocsp-sign-with-ca %q: want true or false", c.OCSPSignWithCA)
	}
	switch c.OCSPResponderID {
	case "byKey":
	case "byName":
		o.byName = true
	default:
		return o, fmt.Errorf("config: ocsp-responder-id %q: want byKey or byName", c.OCSPResponderID)
	}
	switch c.OCSPUnknown {
	case "unknown":
	case "revoked":
		o.unknownAsRevoked = true
	default:
		return o, fmt.Errorf("config: ocsp-unknown %q: want unknown or revoked", c.OCSPUnknown)
	}
	if o.maxLive, err = strconv.Atoi(c.OCSPMaxLive); err != nil || o.maxLive < 1 {
		return o, fmt.Errorf("config: ocsp-max-live %q: want a positive number", c.OCSPMaxLive)
	}
	o.prefix = c.OCSPPathPrefix
	if o.quickHTTP, err = strconv.ParseBool(c.OCSPQuickHTTP); err != nil {
		return o, fmt.Errorf("config: ocsp-quick-http %q: want true or false", c.OCSPQuickHTTP)
	}
	return o, nil
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
	var c Config
	for _, st := range c.settings(true) {
		*st.dst = st.def
	}
	o, err := parseOCSPSettings(&c)
	if err != nil {
		return nil, err
	}
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
