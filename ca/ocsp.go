package ca

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
)

// OCSPStore is what signing OCSP answers needs of storage besides Store:
// the delegated responders, and the stored answers the refresh re-signs.
// *db.Store satisfies it.
type OCSPStore interface {
	ResponderStore
	LookupStatus(ctx context.Context, issuer certs.Identifier, serial certs.Serial) (certs.StatusFacts, error)
	OCSPResponsesDue(ctx context.Context, cutoff time.Time, after []byte, limit int, fn func(certs.OCSPResponse) error) ([]byte, error)
	PutOCSPResponses(ctx context.Context, rs ...certs.OCSPResponse) (int, error)
}

// OCSPOptions is how the CA signs OCSP answers: the answers stored at
// issuance and in the revocation transaction, their background refresh,
// and the Set of signers it publishes to the responder (OCSPSigners).
type OCSPOptions struct {
	// Policy is the answers' validity, refresh age and ResponderID form.
	ocspsign.Policy
	// ResponderValidity is the validity of the delegated responder
	// certificates the CA issues and rotates: at least twice Validity. If
	// zero, 30 days.
	ResponderValidity time.Duration
	// SignWithCA signs answers with each CA's own key instead of a
	// delegated responder certificate; the answers then carry the CA's
	// certificate (ocspsign.Issuer).
	SignWithCA bool
	// RefreshShare is the share of time a refresh pass spends working; it
	// sleeps the rest, so that re-signing a large store leaves the serving
	// core to the answers. In (0, 1]; if zero, 0.05.
	RefreshShare float64
	// Metrics, if set, receives the pre-signing and refresh metrics.
	Metrics *OCSPMetrics
}

// resolve fills in the defaults and checks the bounds.
func (o OCSPOptions) resolve() (OCSPOptions, error) {
	var err error
	if o.Policy, err = o.Policy.Resolve(); err != nil {
		return o, fmt.Errorf("ca: OCSP: %w", err)
	}
	if o.ResponderValidity == 0 {
		o.ResponderValidity = 30 * 24 * time.Hour
	}
	if !o.SignWithCA && o.ResponderValidity < 2*o.Validity {
		return o, fmt.Errorf("ca: OCSP responder validity %v is less than twice the answer validity %v", o.ResponderValidity, o.Validity)
	}
	if o.RefreshShare == 0 {
		o.RefreshShare = 0.05
	}
	if o.RefreshShare < 0 || o.RefreshShare > 1 {
		return o, fmt.Errorf("ca: OCSP refresh share %v is outside (0, 1]", o.RefreshShare)
	}
	return o, nil
}

// ocspState is the CA's OCSP signing: the published Set and the refresh.
type ocspState struct {
	opts  OCSPOptions
	store OCSPStore
	set   atomic.Pointer[ocspsign.Set]
	// reload serialises ReloadOCSP, so the Set published last is the newest.
	reload sync.Mutex
	// settled is set once a start pass has left every stored answer in
	// its signer's current form (the settings cannot change while the
	// process runs): Sets published from then on are Settled.
	settled  atomic.Bool
	started  time.Time
	lastPass atomic.Int64                               // unix nanoseconds of the last completed refresh pass
	pause    func(context.Context, time.Duration) error // between refresh batches (tests watch it)
}

// OCSPSigners returns the published Set of OCSP signers, one per CA with a
// usable key: the responder's read-only signer lookup. It never loads or
// writes anything; nil before the first ReloadOCSP (or without
// Options.OCSP).
func (a *Authority) OCSPSigners() *ocspsign.Set {
	if a.ocsp == nil {
		return nil
	}
	return a.ocsp.set.Load()
}

// ReloadOCSP issues or rotates the delegated responder certificates the
// CAs need and publishes a new Set of signers. The CA calls it itself
// after a CA is created, imported, revoked, disabled or enabled, and
// RunOCSP every refresh interval; serve calls it once at start.
func (a *Authority) ReloadOCSP(ctx context.Context) error {
	if a.ocsp == nil {
		return errors.New("ca: no OCSP options: this authority signs no OCSP answers")
	}
	a.ocsp.reload.Lock()
	defer a.ocsp.reload.Unlock()
	if err := a.ensureResponders(certs.WithActor(ctx, certs.Actor{Who: "system:ocsp"})); err != nil {
		return fmt.Errorf("ca: OCSP responder certificates: %w", err)
	}
	list, err := a.ocspIssuers(ctx)
	if err != nil {
		return fmt.Errorf("ca: OCSP signers: %w", err)
	}
	set, err := ocspsign.NewSet(a.ocsp.opts.Policy, list...)
	if err != nil {
		return fmt.Errorf("ca: OCSP signers: %w", err)
	}
	if a.ocsp.settled.Load() {
		set = set.Settled()
	}
	a.ocsp.set.Store(set)
	a.log.Debug("OCSP signers loaded", "count", len(list))
	return nil
}

// ensureResponders issues or rotates the delegated responder certificate
// of every CA that signs OCSP with one (not with SignWithCA): when it is
// missing or would expire within validity + a day (so no answer outlives
// it), unless it already lasts as long as the CA.
func (a *Authority) ensureResponders(ctx context.Context) error {
	o := a.ocsp.opts
	if o.SignWithCA {
		return nil
	}
	cas, err := a.store.CAs(ctx)
	if err != nil {
		return err
	}
	now := a.opts.Now()
	for _, c := range cas {
		if len(c.SealedKey) == 0 || c.State != certs.StateIssued || !now.Before(c.NotAfter) {
			continue // no key to sign with, or a CA that signs with its own key now
		}
		r, err := a.ocsp.store.Responder(ctx, c.Identifier)
		if err != nil && !errors.Is(err, certs.ErrNotFound) {
			return err
		}
		if err == nil && (r.NotAfter.Sub(now) >= o.Validity+24*time.Hour || !r.NotAfter.Before(c.NotAfter)) {
			continue
		}
		nr, _, err := a.IssueResponder(ctx, c.Identifier, o.ResponderValidity)
		if err != nil {
			return err
		}
		if err := a.ocsp.store.PutResponder(ctx, nr); err != nil {
			return err
		}
	}
	return nil
}

// ocspIssuers returns every CA with a key and its OCSP signer. A CA that
// should have a delegated responder and has none (ensureResponders could
// not make one) is left out, and so answered as an issuer certstatus does
// not serve, with a warning.
func (a *Authority) ocspIssuers(ctx context.Context) ([]ocspsign.Issuer, error) {
	cas, err := a.store.CAs(ctx)
	if err != nil {
		return nil, err
	}
	now := a.opts.Now()
	var out []ocspsign.Issuer
	for _, c := range cas {
		if len(c.SealedKey) == 0 {
			// An imported CA without its key: certstatus answers about it
			// (its parent does) but cannot sign for its certificates.
			continue
		}
		cert, err := a.caCert(c)
		if err != nil {
			return nil, err
		}
		is := ocspsign.Issuer{ID: c.Identifier, Cert: cert}
		if !a.ocsp.opts.SignWithCA {
			r, err := a.ocsp.store.Responder(ctx, c.Identifier)
			if err != nil && !errors.Is(err, certs.ErrNotFound) {
				return nil, err
			}
			if err == nil && now.Before(r.NotAfter) {
				if is.SignerCert, err = (certs.CA{DER: r.DER}).Certificate(); err != nil {
					return nil, err
				}
				if is.Signer, err = a.ResponderSigner(r); err != nil {
					return nil, err
				}
				out = append(out, is)
				continue
			}
			if c.State == certs.StateIssued && now.Before(c.NotAfter) {
				a.log.Warn("CA has no valid OCSP responder certificate; not answering for it until one is issued", "ca", c.Identifier)
				continue
			}
			// A revoked or expired CA with no valid responder left signs
			// with its own key.
		}
		if is.Signer, err = a.signer(ctx, c); err != nil {
			return nil, err
		}
		out = append(out, is)
	}
	return out, nil
}

// ocspSet returns the published Set, loading it on first use (offline
// commands issue and revoke without a serve loop).
func (a *Authority) ocspSet(ctx context.Context) (*ocspsign.Set, error) {
	if set := a.ocsp.set.Load(); set != nil {
		return set, nil
	}
	if err := a.ReloadOCSP(ctx); err != nil {
		return nil, err
	}
	return a.ocsp.set.Load(), nil
}

// presign signs the SHA-1 answer of a certificate being issued or
// revoked, to be stored in the same transaction as the record. A failure
// is logged and the certificate is issued or revoked anyway: the
// responder then signs live until the refresh stores an answer.
func (a *Authority) presign(ctx context.Context, r certs.Record) []certs.OCSPResponse {
	if a.ocsp == nil {
		return nil
	}
	o, err := a.signAnswer(ctx, r.Issuer, r.Facts(), crypto.SHA1)
	if err != nil {
		a.log.Warn("OCSP pre-signing failed; the responder signs live until the refresh stores an answer", "id", r.Identifier, "err", err)
		return nil
	}
	return []certs.OCSPResponse{o}
}

// PresignOCSP signs the SHA-1 answer of r as stored with it, for callers
// that write records in bulk (imports).
func (a *Authority) PresignOCSP(ctx context.Context, r certs.Record) (certs.OCSPResponse, error) {
	if a.ocsp == nil {
		return certs.OCSPResponse{}, errors.New("ca: no OCSP options: this authority signs no OCSP answers")
	}
	return a.signAnswer(ctx, r.Issuer, r.Facts(), crypto.SHA1)
}

func (a *Authority) signAnswer(ctx context.Context, issuer certs.Identifier, f certs.StatusFacts, h crypto.Hash) (certs.OCSPResponse, error) {
	set, err := a.ocspSet(ctx)
	if err != nil {
		return certs.OCSPResponse{}, err
	}
	s := set.Get(issuer)
	if s == nil {
		return certs.OCSPResponse{}, fmt.Errorf("ca: no OCSP signer for CA %s", issuer)
	}
	t0 := time.Now()
	o, err := s.Answer(f, h, a.opts.Now())
	if err == nil {
		a.ocsp.opts.Metrics.signed(time.Since(t0))
	}
	return o, err
}
