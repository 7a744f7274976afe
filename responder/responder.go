package responder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
)

// Source is what the responder reads, all of it side-effect free: the
// status facts of a certificate and its stored answer. *db.Store
// satisfies it.
type Source interface {
	// LookupStatus returns what a status answer needs of the certificate
	// issuer issued with serial, or an error wrapping certs.ErrNotFound.
	LookupStatus(ctx context.Context, issuer certs.Identifier, serial certs.Serial) (certs.StatusFacts, error)
	// The allocation-free reads of the quick path (see fast.go): the
	// stored answer appended to a buffer, and whether a serial exists.
	presigned
}

// Signers is the read-only lookup of the OCSP signers, published by the
// write side (*ca.Authority): the responder signs with them only what it
// cannot serve stored, and stores nothing.
type Signers interface {
	// OCSPSigners returns the current Set; nil when there is none yet.
	OCSPSigners() *ocspsign.Set
}

// Options configures a Responder. A nil *Options means the defaults. The
// validity of answers and the ResponderID form are the signers' (their
// ocspsign.Policy), so that live and stored answers agree.
type Options struct {
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
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
	// Logger gets per-request lines at debug. If nil, discarded.
	Logger *slog.Logger
	// Metrics, if set, receives the answer and signing metrics.
	Metrics *Metrics
}

// Responder answers OCSP requests from a Source, with the Signers' keys.
type Responder struct {
	src     Source
	signers Signers
	opts    Options
	log     *slog.Logger
	live    chan struct{}
	// remembered keeps answers signed live for one canonical CertID
	// without a nonce, in memory, for the next asker.
	remembered liveCache
	m          *Metrics
}

// New returns a Responder reading src and signing with signers.
func New(src Source, signers Signers, opts *Options) (*Responder, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if src == nil || signers == nil {
		return nil, errors.New("responder: a Source and Signers are required")
	}
	if o.MaxLiveSigning == 0 {
		o.MaxLiveSigning = 64
	}
	if o.MaxLiveSigning < 1 {
		return nil, fmt.Errorf("responder: MaxLiveSigning %d", o.MaxLiveSigning)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Responder{src: src, signers: signers, opts: o, log: o.Logger, live: make(chan struct{}, o.MaxLiveSigning), m: o.Metrics}, nil
}

// set is the current signer Set (nil-safe: a nil Set matches nothing).
func (r *Responder) set() *ocspsign.Set { return r.signers.OCSPSigners() }

// validity is the answer validity of the current signers' policy.
func (r *Responder) validity() time.Duration {
	if set := r.set(); set != nil {
		return set.Policy().Validity
	}
	return 24 * time.Hour
}

// Error answers (RFC 6960 §2.3), as x/crypto pre-serialises them.
var (
	malformedRequest = ocsp.MalformedRequestErrorResponse
	internalError    = ocsp.InternalErrorErrorResponse
	tryLater         = ocsp.TryLaterErrorResponse
	unauthorized     = ocsp.UnauthorizedErrorResponse
)
