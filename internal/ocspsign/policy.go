package ocspsign

import (
	"fmt"
	"time"
)

// Validity bounds (CA/B BRs 4.9.10, Microsoft root program): 8 hours to 7
// days.
const (
	MinValidity = 8 * time.Hour
	MaxValidity = 7 * 24 * time.Hour
)

// Policy is how long the answers of a Set are valid and how signers name
// themselves. The zero Policy means the defaults.
type Policy struct {
	// Validity is the nextUpdate − thisUpdate of every answer, 8h..7d.
	// If zero, 24 hours.
	Validity time.Duration
	// RefreshAfter is the age at which a stored or remembered answer is
	// signed again: at least a minute, at most half of Validity (RFC 9919
	// §6, CA/B BRs: no answer served past half its validity). If zero, a
	// third of Validity.
	RefreshAfter time.Duration
	// ByName makes the ResponderID byName; the default is byKey.
	ByName bool
	// OmitCACert leaves a CA's own certificate out of the answers it
	// signs itself (Issuer.SignerCert nil). By default it is included:
	// Apache's SSLOCSPEnable finds no signer without it, while
	// golang.org/x/crypto/ocsp refuses a sub CA's answers with it
	// (golang/go#59641). A delegated responder's certificate is always
	// included.
	OmitCACert bool
}

// Resolve returns p with its defaults filled in, or an error naming the
// setting out of bounds.
func (p Policy) Resolve() (Policy, error) {
	if p.Validity == 0 {
		p.Validity = 24 * time.Hour
	}
	if p.Validity < MinValidity || p.Validity > MaxValidity {
		return p, fmt.Errorf("ocspsign: validity %v is outside %v..%v (CA/B BRs, Microsoft root program)", p.Validity, MinValidity, MaxValidity)
	}
	if p.RefreshAfter == 0 {
		p.RefreshAfter = p.Validity / 3
	}
	if p.RefreshAfter < time.Minute || p.RefreshAfter > p.Validity/2 {
		return p, fmt.Errorf("ocspsign: refresh after %v is outside 1m..%v (half the validity)", p.RefreshAfter, p.Validity/2)
	}
	return p, nil
}

// Current reports whether an answer valid from thisUpdate to nextUpdate
// may be served at now: before its nextUpdate, and not dated more than the
// tolerated clock skew (5 minutes) ahead.
func Current(thisUpdate, nextUpdate, now time.Time) bool {
	return now.Before(nextUpdate) && !thisUpdate.After(now.Add(5*time.Minute))
}

// generalized returns t as RFC 5280 GeneralizedTime wants it: UTC, whole
// seconds.
func generalized(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
