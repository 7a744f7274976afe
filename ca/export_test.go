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
