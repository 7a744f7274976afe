package ca

import (
	"context"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// maxFutureSkew is how far ahead of the CA's clock a revocation time may be
// (a caller's clock running slightly fast).
const maxFutureSkew = time.Minute

func (a *Authority) revocationTime(at time.Time) (time.Time, error) {
	now := a.opts.Now()
	if at.IsZero() {
		at = now
	}
	if at.After(now.Add(maxFutureSkew)) {
		return at, fmt.Errorf("%w revocation time %s: in the future", certs.ErrInvalid, at.UTC().Format(time.RFC3339))
	}
	// Whole seconds: OCSP and CRLs carry revocation times without
	// fractions (RFC 5280 §4.1.2.5.2), and the JSON API must say the same.
	return at.UTC().Truncate(time.Second), nil
}

// Revoke revokes certificate id for reason at time at (zero means now; a
// past time records an earlier compromise). Revoking twice fails with
// certs.ErrAlreadyRevoked and keeps the first revocation's facts.
func (a *Authority) Revoke(ctx context.Context, id certs.Identifier, reason certs.Reason, at time.Time) (certs.Record, error) {
	if !reason.Revocable() {
		return certs.Record{}, fmt.Errorf("%w reason %v: not a reason to revoke", certs.ErrInvalid, reason)
	}
	t, err := a.revocationTime(at)
	if err != nil {
		return certs.Record{}, err
	}
	// Sign the revoked answers before the write transaction, so that it
	// holds no lock while signing; the store refuses them if the record
	// changed meanwhile.
	var responses []certs.OCSPResponse
	if cur, err := a.store.Get(ctx, id); err == nil && cur.State == certs.StateIssued {
		cur.State, cur.RevokedAt, cur.Reason = certs.StateRevoked, t, reason
		responses = a.presign(ctx, cur)
	}
	r, err := a.store.Revoke(ctx, id, reason, t, responses...)
	if err != nil {
		return r, err
	}
	a.refreshCRL(ctx, r.Issuer)
	a.log.Info("certificate revoked", logActor(ctx, "id", id, "serial", r.Serial, "issuer", r.Issuer, "reason", reason.String(), "revoked_at", t)...)
	return r, nil
}

// RevokeCA revokes CA id. It can no longer issue, and neither can any CA
// below it. Revoking twice fails with certs.ErrAlreadyRevoked.
func (a *Authority) RevokeCA(ctx context.Context, id certs.Identifier, reason certs.Reason, at time.Time) (certs.CA, error) {
	if !reason.Revocable() {
		return certs.CA{}, fmt.Errorf("%w reason %v: not a reason to revoke", certs.ErrInvalid, reason)
	}
	t, err := a.revocationTime(at)
	if err != nil {
		return certs.CA{}, err
	}
	c, err := a.store.UpdateCA(ctx, id, func(c *certs.CA) error {
		if c.State == certs.StateRevoked {
			return fmt.Errorf("ca: revoke CA %s: %w at %s (%v)", id, certs.ErrAlreadyRevoked, c.RevokedAt.Format(time.RFC3339), c.Reason)
		}
		c.State, c.RevokedAt, c.Reason = certs.StateRevoked, t, reason
		return nil
	})
	if err != nil {
		return c, err
	}
	a.signers.Delete(id)
	if c.Parent != "" {
		a.refreshCRL(ctx, c.Parent)
	}
	a.caChanged(ctx, c)
	a.log.Info("CA revoked", logActor(ctx, "ca", id, "reason", reason.String(), "revoked_at", t)...)
	return c, nil
}

// SetCADisabled stops (or resumes) issuance by CA id without revoking it.
func (a *Authority) SetCADisabled(ctx context.Context, id certs.Identifier, disabled bool) (certs.CA, error) {
	c, err := a.store.UpdateCA(ctx, id, func(c *certs.CA) error {
		c.Disabled = disabled
		return nil
	})
	if err == nil {
		a.caChanged(ctx, c)
		a.log.Info("CA status changed", logActor(ctx, "ca", id, "disabled", disabled)...)
	}
	return c, err
}

// crlJob is the background regeneration of one CA's CRL: one runs, and
// revocations meanwhile ask for one more pass (again) instead of queueing
// a pass each.
type crlJob struct{ again bool }

// refreshCRL regenerates issuer's CRL in the background after a
// revocation. The revocation's transaction has already marked the CRL
// stale, and a stale CRL is regenerated before it is served, so no reader
// sees a CRL without the revocation; regenerating here keeps serving fast.
// Concurrent revocations under one CA share passes: a pass lists every
// revoked certificate of the CA, and one per revocation would make 64
// concurrent revocations cost 64 full passes in a row.
func (a *Authority) refreshCRL(ctx context.Context, issuer certs.Identifier) {
	if _, ok := a.store.(CRLStore); !ok {
		return
	}
	a.crlMu.Lock()
	if j := a.crlJobs[issuer]; j != nil {
		j.again = true
		a.crlMu.Unlock()
		return
	}
	if a.crlJobs == nil {
		a.crlJobs = map[certs.Identifier]*crlJob{}
	}
	a.crlJobs[issuer] = &crlJob{}
	a.crlWG.Add(1)
	a.crlMu.Unlock()
	ctx = context.WithoutCancel(ctx) // keeps the actor for the audit trail
	go func() {
		defer a.crlWG.Done()
		for {
			// Wait for company: a pass lists every revoked certificate of
			// the CA, so a burst of revocations should share one.
			select {
			case <-time.After(a.crlDelay()):
			case <-a.crlNow:
			}
			if _, err := a.UpdateCRL(ctx, issuer, a.opts.CRL); err != nil {
				a.log.Warn("CRL regeneration after a revocation failed; it will be regenerated when served", "ca", issuer, "err", err)
			}
			a.crlMu.Lock()
			j := a.crlJobs[issuer]
			if !j.again {
				delete(a.crlJobs, issuer)
				a.crlMu.Unlock()
				return
			}
			j.again = false
			a.crlMu.Unlock()
		}
	}()
}

func (a *Authority) crlDelay() time.Duration {
	if a.opts.CRLDelay > 0 {
		return a.opts.CRLDelay
	}
	return time.Second
}

// Wait runs the CRL regenerations revocations have scheduled without
// waiting out their delay, and returns when they are done; call it before
// closing the store.
func (a *Authority) Wait() {
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case a.crlNow <- struct{}{}:
			case <-stop:
				return
			}
		}
	}()
	a.crlWG.Wait()
	close(stop)
}
