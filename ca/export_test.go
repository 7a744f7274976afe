package ca

import (
	"context"
	"time"
)

// WatchRefreshPauses replaces the OCSP refresh's sleep between batches
// with one that records the pauses.
func (a *Authority) WatchRefreshPauses(pauses *[]time.Duration) {
	a.ocsp.pause = func(_ context.Context, d time.Duration) error {
		*pauses = append(*pauses, d)
		return nil
	}
}

// RefreshOCSPAll is the refresh pass serve runs at start: it also re-signs
// young answers not in their signer's current form.
func (a *Authority) RefreshOCSPAll(ctx context.Context) (int, error) { return a.refreshOCSP(ctx, true) }

// Sealer is the authority's key sealer, for a second authority over the
// same store.
func (a *Authority) Sealer() Sealer { return a.sealer }
