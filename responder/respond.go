package responder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
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
// It writes nothing to the store.
func (r *Responder) Respond(ctx context.Context, der []byte) (Answer, error) {
	req, err := ParseRequest(der)
	if err != nil {
		var re *RequestError
		if errors.As(err, &re) && re.Reason == ReasonUnsupportedHash {
			return Answer{}, fmt.Errorf("%w: %w", errUnauthorized, err)
		}
		return Answer{}, err
	}
	set := r.set() // one Set for the whole request
	issuers := make([]*ocspsign.Signer, len(req.CertIDs))
	var signer *ocspsign.Signer
	for i, id := range req.CertIDs {
		issuers[i] = r.match(ctx, set, id)
		if signer == nil && issuers[i] != nil {
			signer = issuers[i]
		}
	}
	if signer == nil {
		return Answer{}, errUnauthorized
	}
	now := r.opts.Now()
	// canonical: one CertID without a nonce, in the encoding the stored
	// and remembered answers are signed for (computed once: both use it).
	canonical := false
	if len(req.CertIDs) == 1 && !req.HasNonce && issuers[0] == signer {
		canon, err := signer.CertID(req.CertIDs[0].Hash, req.CertIDs[0].Serial)
		canonical = err == nil && bytes.Equal(canon, req.CertIDs[0].Raw)
	}
	if canonical {
		if a, ok := r.cached(ctx, set, signer, req.CertIDs[0], now); ok {
			return a, nil
		}
		if a, ok := r.cachedLive(ctx, signer, req.CertIDs[0], now); ok {
			return a, nil
		}
	}
	select {
	case r.live <- struct{}{}:
		defer func() { <-r.live }()
	default:
		return Answer{}, errTryLater
	}
	var singles []ocspsign.Single
	var answered []CertID
	extRevoke, found := false, false
	for i, id := range req.CertIDs {
		// One response has one signer: CertIDs of another issuer are left
		// out rather than answered by a key not authorised for them (an
		// "unknown" signed here could be replayed as an answer about a
		// certificate of that issuer).
		if issuers[i] != signer {
			continue
		}
		s, ext, f, err := r.decide(ctx, signer, id, now)
		if err != nil {
			return Answer{}, err
		}
		s.CertID = id.Raw
		singles = append(singles, s)
		answered = append(answered, id)
		extRevoke, found = extRevoke || ext, f
	}
	var nonce []byte
	if req.HasNonce {
		nonce = req.Nonce
	}
	t0 := time.Now()
	out, err := signer.Sign(singles, now, nonce, extRevoke)
	if err != nil {
		return Answer{}, err
	}
	r.m.signed(time.Since(t0))
	a := Answer{DER: out, ThisUpdate: singles[0].ThisUpdate, NextUpdate: singles[0].NextUpdate, Nonce: req.HasNonce}
	for _, s := range singles {
		a.Statuses = append(a.Statuses, s.Status)
	}
	// Remember a single canonical answer without a nonce for the next
	// asker, in memory.
	if canonical {
		r.remembered.put(answered[0].Raw, remembered{a: a, signer: signer, single: singles[0], ext: extRevoke, found: found})
	}
	return a, nil
}

// decide builds the SingleResponse for one CertID (CertID left to the
// caller). ext reports that the extended-revoke extension is needed, found
// that the store has the serial.
func (r *Responder) decide(ctx context.Context, s *ocspsign.Signer, id CertID, now time.Time) (ocspsign.Single, bool, bool, error) {
	this, next := s.Window(now)
	sg := ocspsign.Single{ThisUpdate: this, NextUpdate: next, Status: certs.Unknown}
	facts, err := r.src.LookupStatus(ctx, s.ID, certs.SerialFromBig(id.Serial))
	switch {
	case errors.Is(err, certs.ErrNotFound):
		if r.opts.UnknownAsRevoked {
			sg.Status, sg.RevokedAt, sg.Reason = certs.Revoked, time.Unix(0, 0), certs.CertificateHold
			return sg, true, false, nil
		}
		return sg, false, false, nil
	case err != nil:
		return sg, false, false, err
	}
	a, err := facts.StatusAt(now)
	if err != nil {
		return sg, false, false, fmt.Errorf("responder: CA %s serial %s: %w", s.ID, facts.Serial, err)
	}
	sg.Status, sg.RevokedAt, sg.Reason = a.Status, a.RevokedAt, a.Reason
	return sg, false, true, nil
}

// serialContents is the DER INTEGER contents of a positive serial, as in a
// CertID: the stored answers' key.
func serialContents(n *big.Int) []byte {
	b := n.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}

// cached serves a stored answer for a canonical CertID when one is
// current and signed in the current signer's form (ocspsign.Signer.Made,
// until the CA has settled the Set).
func (r *Responder) cached(ctx context.Context, set *ocspsign.Set, s *ocspsign.Signer, id CertID, now time.Time) (Answer, bool) {
	_, o, err := r.src.AppendOCSPResponse(ctx, nil, s.ID, serialContents(id.Serial), id.Hash)
	if err != nil || !ocspsign.Current(o.ThisUpdate, o.NextUpdate, now) || set.CheckForm() && !s.Made(o.DER) {
		return Answer{}, false // Respond signs it live
	}
	return Answer{DER: o.DER, Cached: true, ThisUpdate: o.ThisUpdate, NextUpdate: o.NextUpdate, Statuses: []certs.Status{o.Status}}, true
}

// cachedLive serves an answer signed live earlier while it is current and
// the store still says what it says (a certificate revoked or imported
// since is answered anew).
func (r *Responder) cachedLive(ctx context.Context, s *ocspsign.Signer, id CertID, now time.Time) (Answer, bool) {
	e, ok := r.remembered.current(id.Raw, s, now)
	if !ok {
		return Answer{}, false
	}
	sg, ext, _, err := r.decide(ctx, s, id, now)
	if err != nil || sg.Status != e.single.Status || !sg.RevokedAt.Equal(e.single.RevokedAt) || sg.Reason != e.single.Reason || ext != e.ext {
		r.remembered.drop(id.Raw)
		return Answer{}, false
	}
	a := e.a
	a.Cached = true
	return a, true
}
