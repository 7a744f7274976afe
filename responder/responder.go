package responder

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
)

// Source is what the responder reads and caches. *db.Store satisfies it.
type Source interface {
	LookupStatus(ctx context.Context, issuer certs.Identifier, serial certs.Serial) (certs.StatusFacts, error)
	OCSPResponse(ctx context.Context, issuer certs.Identifier, serial certs.Serial, h crypto.Hash) (certs.OCSPResponse, error)
	PutOCSPResponses(ctx context.Context, rs ...certs.OCSPResponse) (int, error)
	OCSPResponsesDue(ctx context.Context, cutoff time.Time, after []byte, limit int, fn func(certs.OCSPResponse) error) ([]byte, error)
	// The allocation-free reads of the quick path (see fast.go).
	presigned
}

// Validity bounds (CA/B BRs 4.9.10, Microsoft root program): 8 hours to 7
// days.
const (
	MinValidity = 8 * time.Hour
	MaxValidity = 7 * 24 * time.Hour
)

// Options configures a Responder. A nil *Options means the defaults.
type Options struct {
	// Validity is the nextUpdate − thisUpdate of every response, 8h..7d.
	// If zero, 24 hours.
	Validity time.Duration
	// RefreshAfter is the age at which the background refresh re-signs a
	// pre-signed response: at least a minute, at most half of Validity. If
	// zero, a third of Validity.
	RefreshAfter time.Duration
	// RefreshShare is the share of time a refresh pass spends signing; it
	// sleeps the rest, so that re-signing a large store leaves the serving
	// core to the answers. In (0, 1]; if zero, 0.05.
	RefreshShare float64
	// ByName makes the ResponderID byName; the default is byKey.
	ByName bool
	// UnknownAsRevoked answers serials an issuer never issued as revoked
	// (certificateHold, revocationTime 1970-01-01, with the extended-revoke
	// extension), as RFC 6960 §2.2 allows; the default is unknown.
	UnknownAsRevoked bool
	// MaxLiveSigning caps concurrent signing for requests that cannot be
	// served pre-signed (nonces, several CertIDs, first use); more get
	// tryLater. If zero, 64.
	MaxLiveSigning int
	// PathPrefix is stripped from GET paths ("/ocsp"); default none.
	PathPrefix string
	// Issuers returns the CAs to answer for. It is called by New, by
	// Reload, and when a request names an issuer not yet known (at most
	// once a second), so CAs created while serving are answered at once.
	Issuers func(ctx context.Context) ([]Issuer, error)
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
	// Logger gets one line per reload and refresh pass, and per-request
	// lines at debug. If nil, discarded.
	Logger *slog.Logger
	// Metrics, if set, receives the answer, signing and refresh metrics.
	Metrics *Metrics
}

// Responder answers OCSP requests from a Source.
type Responder struct {
	src    Source
	opts   Options
	log    *slog.Logger
	issues atomic.Pointer[issuerSet]
	live   chan struct{}

	reloadMu   sync.Mutex
	lastReload time.Time
	reloadRun  sync.Mutex    // serialises Reload
	cacheWrite chan struct{} // bounds background cache writes
	writes     sync.WaitGroup
	m          *Metrics
	started    time.Time
	lastPass   atomic.Int64                               // unix nanoseconds of the last completed refresh pass
	pause      func(context.Context, time.Duration) error // between refresh batches (tests watch it)
}

// New returns a Responder and loads its issuers.
func New(ctx context.Context, src Source, opts *Options) (*Responder, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Validity == 0 {
		o.Validity = 24 * time.Hour
	}
	if o.Validity < MinValidity || o.Validity > MaxValidity {
		return nil, fmt.Errorf("responder: validity %v is outside %v..%v (CA/B BRs, Microsoft root program)", o.Validity, MinValidity, MaxValidity)
	}
	if o.RefreshAfter == 0 {
		o.RefreshAfter = o.Validity / 3
	}
	if o.RefreshAfter < time.Minute || o.RefreshAfter > o.Validity/2 {
		return nil, fmt.Errorf("responder: refresh after %v is outside 1m..%v (half the validity)", o.RefreshAfter, o.Validity/2)
	}
	if o.RefreshShare == 0 {
		o.RefreshShare = 0.05
	}
	if o.RefreshShare < 0 || o.RefreshShare > 1 {
		return nil, fmt.Errorf("responder: refresh share %v is outside (0, 1]", o.RefreshShare)
	}
	if o.MaxLiveSigning == 0 {
		o.MaxLiveSigning = 64
	}
	if o.MaxLiveSigning < 1 {
		return nil, fmt.Errorf("responder: MaxLiveSigning %d", o.MaxLiveSigning)
	}
	if o.Issuers == nil {
		return nil, errors.New("responder: Options.Issuers is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Responder{src: src, opts: o, log: o.Logger, live: make(chan struct{}, o.MaxLiveSigning), cacheWrite: make(chan struct{}, 8),
		m: o.Metrics, started: time.Now(), pause: sleep}
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Error answers (RFC 6960 §2.3), as x/crypto pre-serialises them.
var (
	malformedRequest = ocsp.MalformedRequestErrorResponse
	internalError    = ocsp.InternalErrorErrorResponse
	tryLater         = ocsp.TryLaterErrorResponse
	unauthorized     = ocsp.UnauthorizedErrorResponse
)
