package responder

import (
	"context"
	"crypto"
	"fmt"
	"math/big"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// store writes a freshly signed response in the background (bounded), so
// the asker does not wait for an fsync.
func (r *Responder) store(o certs.OCSPResponse) {
	select {
	case r.cacheWrite <- struct{}{}:
	default:
		return // busy: the next asker signs again
	}
	r.writes.Add(1)
	go func() {
		defer r.writes.Done()
		defer func() { <-r.cacheWrite }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := r.src.PutOCSPResponses(ctx, o); err != nil {
			r.log.Warn("caching an OCSP response failed", "issuer", o.Issuer, "serial", o.Serial, "err", err)
		}
	}()
}

// Ready reports why the responder cannot answer as it should: it needs a
// signer for every CA the store holds, and the background refresh must
// have completed within half the response validity (pre-signed answers
// would otherwise go stale beyond policy).
func (r *Responder) Ready(ids []certs.Identifier) error {
	set := r.issues.Load()
	for _, id := range ids {
		if set.byID[id] == nil {
			return fmt.Errorf("responder: no OCSP signer loaded for CA %s", id)
		}
	}
	last := r.started
	if n := r.lastPass.Load(); n != 0 {
		last = time.Unix(0, n)
	}
	if since := time.Since(last); since > r.opts.Validity/2 {
		return fmt.Errorf("responder: pre-signed OCSP answers not refreshed for %v (policy: within %v)", since.Round(time.Second), r.opts.Validity/2)
	}
	return nil
}

// Wait waits for background cache writes to finish; call it after the
// listener has stopped and before the store is closed.
func (r *Responder) Wait() { r.writes.Wait() }

// Presign signs the SHA-1 response for a certificate being issued or
// revoked (ca.Options.Presign), to be stored with the record.
func (r *Responder) Presign(ctx context.Context, rec certs.Record) ([]certs.OCSPResponse, error) {
	st := r.issuer(ctx, rec.Issuer)
	if st == nil {
		return nil, fmt.Errorf("responder: no signer for CA %s", rec.Issuer)
	}
	serial, ok := rec.Serial.Big()
	if !ok {
		return nil, fmt.Errorf("responder: serial %q", rec.Serial)
	}
	return r.signFor(st, rec.Facts(), serial, crypto.SHA1)
}

// signFor signs rec's current status for CertID hash h.
func (r *Responder) signFor(st *issuerState, rec certs.StatusFacts, serial *big.Int, h crypto.Hash) ([]certs.OCSPResponse, error) {
	now := r.opts.Now()
	this, next := r.window(st, now)
	a, err := rec.StatusAt(now)
	if err != nil {
		return nil, fmt.Errorf("responder: CA %s serial %s: %w", st.ID, rec.Serial, err)
	}
	id, err := st.certIDFor(h, serial)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	der, err := st.sign([]single{{certID: id, status: a.Status, revokedAt: a.RevokedAt, reason: a.Reason, thisUpdate: this, nextUpdate: next}}, now, nil, false)
	if err != nil {
		return nil, err
	}
	r.m.signed(time.Since(t0))
	return []certs.OCSPResponse{{Issuer: st.ID, Serial: rec.Serial, Hash: h, Status: a.Status, DER: der, ThisUpdate: this, NextUpdate: next}}, nil
}
