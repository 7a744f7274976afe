package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// CRLStore is what CRL generation needs from the store, besides Store.
// *db.Store satisfies it.
type CRLStore interface {
	CRL(ctx context.Context, id certs.Identifier) (certs.CRL, error)
	PutCRL(ctx context.Context, c certs.CRL) error
	List(ctx context.Context, f certs.Filter) ([]certs.Record, certs.Identifier, error)
	CAs(ctx context.Context) ([]certs.CA, error)
}

// CRLPolicy says how CRLs are made.
type CRLPolicy struct {
	// Validity is nextUpdate − thisUpdate. If zero, 24 hours.
	Validity time.Duration
	// Retention is how long after its notAfter an expired revoked
	// certificate stays listed. If zero, 90 days.
	Retention time.Duration
}

func (p CRLPolicy) defaults() CRLPolicy {
	if p.Validity == 0 {
		p.Validity = 24 * time.Hour
	}
	if p.Retention == 0 {
		p.Retention = 90 * 24 * time.Hour
	}
	return p
}

// UpdateCRL signs a new full CRL for CA id with the CA key (RFC 5280 §5):
// every revoked certificate and sub CA it issued (deleted ones included;
// expired ones until Retention has passed), reason codes (omitted when
// unspecified), the next cRLNumber, thisUpdate now and nextUpdate now +
// Validity (never past the CA's notAfter). It stores and returns it.
func (a *Authority) UpdateCRL(ctx context.Context, id certs.Identifier, p CRLPolicy) (certs.CRL, error) {
	p = p.defaults()
	cs, ok := a.store.(CRLStore)
	if !ok {
		return certs.CRL{}, errors.New("ca: the store cannot keep CRLs")
	}
	// One generation at a time per CA: concurrent revocations then never
	// exhaust the retries below by racing for the same CRL number.
	mu, _ := a.crlLocks.LoadOrStore(id, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	for attempt := 0; ; attempt++ {
		crl, err := a.updateCRL(ctx, cs, id, p)
		// Another generation took the number first: build the next one.
		if errors.Is(err, certs.ErrExists) && attempt < 3 {
			continue
		}
		return crl, err
	}
}

func (a *Authority) updateCRL(ctx context.Context, cs CRLStore, id certs.Identifier, p CRLPolicy) (certs.CRL, error) {
	c, err := a.store.CA(ctx, id)
	if err != nil {
		return certs.CRL{}, err
	}
	now := a.opts.Now()
	if !now.Before(c.NotAfter) {
		return certs.CRL{}, fmt.Errorf("%w: CA %s expired at %s and can sign no CRL", certs.ErrIssuerUnusable, id, c.NotAfter.UTC().Format(time.RFC3339))
	}
	cur, err := cs.CRL(ctx, id)
	if err != nil && !errors.Is(err, certs.ErrNotFound) {
		return certs.CRL{}, err
	}
	leaves, _, err := cs.List(ctx, certs.Filter{Issuer: id, State: certs.StateRevoked, IncludeDeleted: true})
	if err != nil {
		return certs.CRL{}, err
	}
	cas, err := cs.CAs(ctx)
	if err != nil {
		return certs.CRL{}, err
	}
	var revoked []certs.Record
	revoked = append(revoked, leaves...)
	for _, sub := range cas {
		if sub.Parent == id && sub.State == certs.StateRevoked {
			revoked = append(revoked, sub.AsRecord())
		}
	}
	var entries []x509.RevocationListEntry
	for _, r := range revoked {
		if now.After(r.NotAfter.Add(p.Retention)) {
			continue
		}
		serial, ok := r.Serial.Big()
		if !ok {
			return certs.CRL{}, fmt.Errorf("ca: serial %q of %s", r.Serial, r.Identifier)
		}
		entries = append(entries, x509.RevocationListEntry{
			SerialNumber:   serial,
			RevocationTime: r.RevokedAt.UTC(),
			ReasonCode:     int(r.Reason), // 0 (unspecified) is omitted
		})
	}
	caCert, err := c.Certificate()
	if err != nil {
		return certs.CRL{}, err
	}
	key, err := a.signer(ctx, c)
	if err != nil {
		return certs.CRL{}, err
	}
	this := now.UTC().Truncate(time.Second)
	next := this.Add(p.Validity)
	if next.After(c.NotAfter) {
		next = c.NotAfter.UTC()
	}
	number := cur.Number + 1
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    new(big.Int).SetUint64(number),
		ThisUpdate:                this,
		NextUpdate:                next,
		RevokedCertificateEntries: entries,
	}, caCert, key)
	if err != nil {
		return certs.CRL{}, fmt.Errorf("ca: sign CRL of %s: %w", id, err)
	}
	out := certs.CRL{CA: id, Number: number, DER: der, ThisUpdate: this, NextUpdate: next, Revision: cur.Revision}
	if err := cs.PutCRL(ctx, out); err != nil {
		return certs.CRL{}, fmt.Errorf("ca: store CRL of %s: %w", id, err)
	}
	a.log.Info("CRL signed", "ca", id, "number", number, "entries", len(entries), "next_update", next)
	return cs.CRL(ctx, id)
}
