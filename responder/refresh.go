package responder

import (
	"context"
	"errors"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// refreshAge is the age at which a pre-signed response is re-signed: by
// default a third of its validity, so that with a refresh pass every
// twelfth of the validity no response is served past half of it (RFC 9919
// §6, CA/B BRs).
func (r *Responder) refreshAge() time.Duration { return r.opts.RefreshAfter }

// RefreshInterval is how often Run refreshes: a quarter of the refresh
// age, at most 15 minutes.
func (r *Responder) RefreshInterval() time.Duration {
	d := r.opts.RefreshAfter / 4
	if d > 15*time.Minute {
		d = 15 * time.Minute
	}
	return d
}

// Refresh re-signs every cached response older than the refresh age with
// the certificate's current status, in batches, and returns how many it
// replaced. A response whose certificate changed meanwhile is not
// overwritten (the store checks). After each page of the scan for due
// answers, each signature and each batch write it sleeps long enough that
// its work takes only RefreshShare of the pass's time: spread out like
// this, the pass never holds the serving core for more than one signature
// or one page of the scan at a time.
func (r *Responder) Refresh(ctx context.Context) (int, error) {
	const batch = 500
	cutoff := r.opts.Now().Add(-r.refreshAge())
	var after []byte
	total, due := 0, 0
	defer func() { r.m.refreshPass(due, r.opts.Now()) }()
	pace := func(start time.Time) error {
		if r.opts.RefreshShare >= 1 {
			return nil
		}
		return r.pause(ctx, time.Duration(float64(time.Since(start))*(1/r.opts.RefreshShare-1)))
	}
	for {
		var batchDue []certs.OCSPResponse
		scan := time.Now()
		next, err := r.src.OCSPResponsesDue(ctx, cutoff, after, batch, func(o certs.OCSPResponse) error {
			batchDue = append(batchDue, o)
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
		for _, o := range batchDue {
			work := time.Now()
			st := r.issuer(ctx, o.Issuer)
			if st == nil {
				continue
			}
			rec, err := r.src.LookupStatus(ctx, o.Issuer, o.Serial)
			if errors.Is(err, certs.ErrNotFound) {
				continue
			}
			if errors.Is(err, certs.ErrCorrupt) {
				// Not signed again: its answer runs out, and then it is
				// answered internalError. The others go on.
				r.log.Error("OCSP refresh skips a certificate whose record cannot be read", "issuer", o.Issuer, "serial", o.Serial, "err", err)
				continue
			}
			if err != nil {
				return total, err
			}
			serial, ok := o.Serial.Big()
			if !ok {
				continue
			}
			rs, err := r.signFor(st, rec, serial, o.Hash)
			if errors.Is(err, certs.ErrCorrupt) {
				r.log.Error("OCSP refresh skips a certificate whose record cannot be read", "issuer", o.Issuer, "serial", o.Serial, "err", err)
				continue
			}
			if err != nil {
				return total, err
			}
			fresh = append(fresh, rs...)
			if err := pace(work); err != nil {
				return total, err
			}
		}
		if len(fresh) > 0 {
			work := time.Now()
			n, err := r.src.PutOCSPResponses(ctx, fresh...)
			total += n
			r.m.refreshed(n)
			if err != nil {
				return total, err
			}
			if err := pace(work); err != nil {
				return total, err
			}
		}
		if next == nil {
			r.lastPass.Store(time.Now().UnixNano())
			return total, nil
		}
		after = next
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

// Run refreshes pre-signed responses every RefreshInterval and reloads the
// issuers (picking up rotated responder certificates) until ctx ends.
func (r *Responder) Run(ctx context.Context) {
	t := time.NewTicker(r.RefreshInterval())
	defer t.Stop()
	for {
		if err := r.Reload(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("OCSP issuer reload failed", "err", err)
		}
		start := r.opts.Now()
		n, err := r.Refresh(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Error("OCSP refresh failed", "err", err, "refreshed", n)
		} else if n > 0 {
			r.log.Info("OCSP responses refreshed", "count", n, "took", r.opts.Now().Sub(start))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
