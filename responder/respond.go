package responder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// Errors of the answer path; the HTTP layer maps them to OCSP statuses.
// A request whose CertID uses a hash we do not serve is errUnauthorized
// wrapping its *RequestError (reason ReasonUnsupportedHash), so that the
// HTTP layer can name the cause with errors.As.
var (
	errUnauthorized = errors.New("responder: issuer not served")
	errTryLater     = errors.New("responder: signing capacity exhausted")
)

// Answer is the outcome of one request, for headers, logs and metrics.
type Answer struct {
	DER        []byte
	Cached     bool      // served pre-signed
	ThisUpdate time.Time // of the (first) SingleResponse
	NextUpdate time.Time
	Statuses   []certs.Status
	Nonce      bool
}

// Respond answers a DER OCSP request. Errors are *RequestError
// (malformedRequest), errUnauthorized (possibly wrapping a *RequestError
// for an unsupported hash), errTryLater or anything else (internalError).
func (r *Responder) Respond(ctx context.Context, der []byte) (Answer, error) {
	req, err := ParseRequest(der)
	if err != nil {
		var re *RequestError
		if errors.As(err, &re) && re.Reason == ReasonUnsupportedHash {
			return Answer{}, fmt.Errorf("%w: %w", errUnauthorized, err)
		}
		return Answer{}, err
	}
	issuers := make([]*issuerState, len(req.CertIDs))
	var signer *issuerState
	for i, id := range req.CertIDs {
		issuers[i] = r.match(ctx, id)
		if signer == nil && issuers[i] != nil {
			signer = issuers[i]
		}
	}
	if signer == nil {
		return Answer{}, errUnauthorized
	}
	now := r.opts.Now()
	if len(req.CertIDs) == 1 && !req.HasNonce {
		if a, ok := r.cached(ctx, signer, req.CertIDs[0], now); ok {
			return a, nil
		}
		if a, ok := r.cachedUnknown(ctx, signer, req.CertIDs[0], now); ok {
			return a, nil
		}
	}
	select {
	case r.live <- struct{}{}:
		defer func() { <-r.live }()
	default:
		return Answer{}, errTryLater
	}
	var singles []single
	var answered []CertID
	extRevoke := false
	for i, id := range req.CertIDs {
		// One response has one signer: CertIDs of another issuer are left
		// out rather than answered by a key not authorised for them (an
		// "unknown" signed here could be replayed as an answer about a
		// certificate of that issuer).
		if issuers[i] != signer {
			continue
		}
		s, ext, err := r.decide(ctx, signer, id, now)
		if err != nil {
			return Answer{}, err
		}
		s.certID = id.Raw
		singles = append(singles, s)
		answered = append(answered, id)
		extRevoke = extRevoke || ext
	}
	var nonce []byte
	if req.HasNonce {
		nonce = req.Nonce
	}
	t0 := time.Now()
	out, err := signer.sign(singles, now, nonce, extRevoke)
	if err != nil {
		return Answer{}, err
	}
	r.m.signed(time.Since(t0))
	a := Answer{DER: out, ThisUpdate: singles[0].thisUpdate, NextUpdate: singles[0].nextUpdate, Nonce: req.HasNonce}
	for _, s := range singles {
		a.Statuses = append(a.Statuses, s.status)
	}
	// Remember a single canonical answer without a nonce for the next asker:
	// in the store, or in memory for an unknown serial.
	if len(req.CertIDs) == 1 && !req.HasNonce && !extRevoke {
		if canon, err := signer.certIDFor(answered[0].Hash, answered[0].Serial); err == nil && bytes.Equal(canon, answered[0].Raw) {
			if singles[0].status == certs.Unknown {
				signer.unknowns.put(canon, a)
			} else {
				r.store(certs.OCSPResponse{Issuer: signer.ID, Serial: certs.SerialFromBig(answered[0].Serial), Hash: answered[0].Hash,
					Status: singles[0].status, DER: out, ThisUpdate: singles[0].thisUpdate, NextUpdate: singles[0].nextUpdate})
			}
		}
	}
	return a, nil
}

// window returns thisUpdate and nextUpdate for a response signed now by
// st: Validity long, never past the signer's notAfter.
func (r *Responder) window(st *issuerState, now time.Time) (time.Time, time.Time) {
	this := generalized(now)
	next := this.Add(r.opts.Validity)
	if next.After(st.signerNotAfter) {
		next = generalized(st.signerNotAfter)
	}
	return this, next
}

// decide builds the SingleResponse for one CertID (certID left to the
// caller). ext reports that the extended-revoke extension is needed.
func (r *Responder) decide(ctx context.Context, st *issuerState, id CertID, now time.Time) (single, bool, error) {
	this, next := r.window(st, now)
	s := single{thisUpdate: this, nextUpdate: next, status: certs.Unknown}
	facts, err := r.src.LookupStatus(ctx, st.ID, certs.SerialFromBig(id.Serial))
	switch {
	case errors.Is(err, certs.ErrNotFound):
		if r.opts.UnknownAsRevoked {
			s.status, s.revokedAt, s.reason = certs.Revoked, time.Unix(0, 0), certs.CertificateHold
			return s, true, nil
		}
		return s, false, nil
	case err != nil:
		return s, false, err
	}
	a, err := facts.StatusAt(now)
	if err != nil {
		return s, false, fmt.Errorf("responder: CA %s serial %s: %w", st.ID, facts.Serial, err)
	}
	s.status, s.revokedAt, s.reason = a.Status, a.RevokedAt, a.Reason
	return s, false, nil
}

// cached serves a pre-signed response when one is current and its CertID
// is exactly the request's.
func (r *Responder) cached(ctx context.Context, st *issuerState, id CertID, now time.Time) (Answer, bool) {
	canon, err := st.certIDFor(id.Hash, id.Serial)
	if err != nil || !bytes.Equal(canon, id.Raw) {
		return Answer{}, false
	}
	o, err := r.src.OCSPResponse(ctx, st.ID, certs.SerialFromBig(id.Serial), id.Hash)
	if err != nil || !current(o.ThisUpdate, o.NextUpdate, now) {
		return Answer{}, false
	}
	return Answer{DER: o.DER, Cached: true, ThisUpdate: o.ThisUpdate, NextUpdate: o.NextUpdate, Statuses: []certs.Status{o.Status}}, true
}

// cachedUnknown serves a remembered "unknown" answer for a canonical
// CertID while it is current and the serial is still not in the store (a
// certificate imported since is answered from its record, not from here).
func (r *Responder) cachedUnknown(ctx context.Context, st *issuerState, id CertID, now time.Time) (Answer, bool) {
	a, ok := st.unknowns.current(id.Raw, now)
	if !ok {
		return Answer{}, false
	}
	if _, err := r.src.LookupStatus(ctx, st.ID, certs.SerialFromBig(id.Serial)); !errors.Is(err, certs.ErrNotFound) {
		st.unknowns.drop(id.Raw)
		return Answer{}, false
	}
	a.Cached = true
	return a, true
}
