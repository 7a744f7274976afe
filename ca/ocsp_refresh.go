package ca

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// OCSPRefreshInterval is how often RunOCSP rotates, reloads and refreshes:
// a quarter of the refresh age, at most 15 minutes.
func (a *Authority) OCSPRefreshInterval() time.Duration {
	d := a.ocsp.opts.RefreshAfter / 4
	if d > 15*time.Minute {
		d = 15 * time.Minute
	}
	return d
}

// RefreshOCSP re-signs every stored answer older than the refresh age with
// the certificate's current status, in batches, and returns how many it
// replaced. An answer whose certificate changed meanwhile is not
// overwritten (the store checks). After each page of the scan for due
// answers, each signature and each batch write it sleeps long enough that
// its work takes only RefreshShare of the pass's time: spread out like
// this, the pass never holds the serving core for more than one signature
// or one page of the scan at a time.
func (a *Authority) RefreshOCSP(ctx context.Context) (int, error) {
	return a.refreshOCSP(ctx, false)
}

// refreshOCSP is RefreshOCSP; with all it also re-signs the answers not
// signed in their signer's current form (ocspsign.Signer.Made), however
// young: serve runs one such pass at start, as its settings may differ
// from those the answers were signed under.
func (a *Authority) refreshOCSP(ctx context.Context, all bool) (int, error) {
	if a.ocsp == nil {
		return 0, errors.New("ca: no OCSP options: this authority signs no OCSP answers")
	}
	const batch = 500
	o := a.ocsp.opts
	set, err := a.ocspSet(ctx)
	if err != nil {
		return 0, err
	}
	cutoff := a.opts.Now().Add(-o.RefreshAfter)
	scanCutoff := cutoff
	if all {
		scanCutoff = time.Unix(1<<40, 0) // every answer: the form is checked below
	}
	var after []byte
	total, due, reformed := 0, 0, 0
	defer func() { o.Metrics.refreshPass(due, a.opts.Now()) }()
	pace := func(start time.Time) error {
		if o.RefreshShare >= 1 {
			return nil
		}
		return a.ocsp.pause(ctx, time.Duration(float64(time.Since(start))*(1/o.RefreshShare-1)))
	}
	for {
		var batchDue []certs.OCSPResponse
		scan := time.Now()
		next, err := a.ocsp.store.OCSPResponsesDue(ctx, scanCutoff, after, batch, func(r certs.OCSPResponse) error {
			if all && !r.ThisUpdate.Before(cutoff) && r.DER != nil {
				if s := set.Get(r.Issuer); s == nil || s.Made(r.DER) {
					return nil // young, and in the current form
				}
				reformed++
			}
			batchDue = append(batchDue, r)
			return nil
		})
		if err != nil {
			return total, err
		}
		// The scan for due answers is paced too: over a million answers
		// with none due it is ~0.65 s of the serving core, taken a page at
		// a time.
		if err := pace(scan); err != nil {
			return total, err
		}
		var fresh []certs.OCSPResponse
		due += len(batchDue)
		for _, d := range batchDue {
			work := time.Now()
			s := set.Get(d.Issuer)
			if s == nil {
				continue // a CA no longer answered for: its answers run out
			}
			facts, err := a.ocsp.store.LookupStatus(ctx, d.Issuer, d.Serial)
			if errors.Is(err, certs.ErrNotFound) {
				continue
			}
			var r certs.OCSPResponse
			if err == nil {
				t0 := time.Now()
				if r, err = s.Answer(facts, d.Hash, a.opts.Now()); err == nil {
					o.Metrics.signed(time.Since(t0))
				}
			}
			switch {
			case errors.Is(err, certs.ErrCorrupt):
				// Not signed again: its answer runs out, and then it is
				// answered internalError. The others go on.
				a.log.Error("OCSP refresh skips a certificate whose record cannot be read", "issuer", d.Issuer, "serial", d.Serial, "err", err)
			case err != nil:
				return total, err
			default:
				fresh = append(fresh, r)
			}
			if err := pace(work); err != nil {
				return total, err
			}
		}
		if len(fresh) > 0 {
			work := time.Now()
			n, err := a.ocsp.store.PutOCSPResponses(ctx, fresh...)
			total += n
			o.Metrics.refreshed(n)
			if err != nil {
				return total, err
			}
			if err := pace(work); err != nil {
				return total, err
			}
		}
		if next == nil {
			a.ocsp.lastPass.Store(time.Now().UnixNano())
			if reformed > 0 {
				a.log.Info("OCSP answers signed under other settings (signer or ResponderID form) re-signed with the current ones", "count", reformed)
			}
			if all {
				a.settle()
			}
			return total, nil
		}
		after = next
	}
}

// settle publishes the current Set as Settled: every stored answer is in
// its signer's current form, so the responder skips that check.
func (a *Authority) settle() {
	a.ocsp.reload.Lock()
	defer a.ocsp.reload.Unlock()
	a.ocsp.settled.Store(true)
	if set := a.ocsp.set.Load(); set != nil {
		a.ocsp.set.Store(set.Settled())
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// RunOCSP is the OCSP write side's background loop, until ctx ends: every
// OCSPRefreshInterval it rotates the responder certificates due, publishes
// the signers, and re-signs the stored answers due.
func (a *Authority) RunOCSP(ctx context.Context) {
	t := time.NewTicker(a.OCSPRefreshInterval())
	defer t.Stop()
	first := true
	for {
		if err := a.ReloadOCSP(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("OCSP responder rotation or signer reload failed", "err", err)
		}
		start := a.opts.Now()
		n, err := a.refreshOCSP(ctx, first)
		first = false
		if err != nil && ctx.Err() == nil {
			a.log.Error("OCSP refresh failed", "err", err, "refreshed", n)
		} else if n > 0 {
			a.log.Info("OCSP responses refreshed", "count", n, "took", a.opts.Now().Sub(start))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// OCSPReady reports why stored answers may be stale: the background
// refresh must have completed within half the answer validity.
func (a *Authority) OCSPReady() error {
	if a.ocsp == nil {
		return errors.New("ca: no OCSP options")
	}
	if a.ocsp.set.Load() == nil {
		return errors.New("ca: OCSP signers not loaded yet")
	}
	last := a.ocsp.started
	if n := a.ocsp.lastPass.Load(); n != 0 {
		last = time.Unix(0, n)
	}
	if since := time.Since(last); since > a.ocsp.opts.Validity/2 {
		return fmt.Errorf("ca: pre-signed OCSP answers not refreshed for %v (policy: within %v)", since.Round(time.Second), a.ocsp.opts.Validity/2)
	}
	return nil
}
