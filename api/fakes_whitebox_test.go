package api

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// The fakes of the role interfaces (store.go): a map and a mutex each,
// a few lines per method, as the contracts in store.go describe them. A
// unit test sets on a Server only the roles its handler reaches; the
// tests on the real db and ca are the integration tests.

// fakeStore is the certificate and CA roles over two maps: StatusReader,
// CertReader, CAReader and Changer. err, when set, fails every call.
type fakeStore struct {
	mu   sync.Mutex
	recs map[certs.Identifier]certs.Record
	cas  map[certs.Identifier]certs.CA
	err  error
}

func newFakeStore(recs ...certs.Record) *fakeStore {
	f := &fakeStore{recs: map[certs.Identifier]certs.Record{}, cas: map[certs.Identifier]certs.CA{}}
	for _, r := range recs {
		f.recs[r.Identifier] = r
	}
	return f
}

func (f *fakeStore) Statuses(_ context.Context, ids []certs.Identifier) ([]certs.StatusFacts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	out := make([]certs.StatusFacts, len(ids))
	for i, id := range ids {
		out[i] = f.recs[id].Facts() // the zero Record's facts: not found
	}
	return out, nil
}

func (f *fakeStore) BySerial(_ context.Context, serial certs.Serial) ([]certs.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []certs.Record
	for _, r := range f.recs {
		if r.Serial == serial {
			out = append(out, r)
		}
	}
	return out, f.err
}

func (f *fakeStore) Get(_ context.Context, id certs.Identifier) (certs.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recs[id]
	if f.err != nil {
		return certs.Record{}, f.err
	}
	if !ok {
		return r, certs.CertNotFound(id)
	}
	return r, nil
}

// List orders by identifier, descending, for "newest first".
func (f *fakeStore) List(_ context.Context, flt certs.Filter) ([]certs.Record, certs.Identifier, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, "", f.err
	}
	if _, ok := f.recs[flt.After]; flt.After != "" && !ok {
		return nil, "", certs.CertNotFound(flt.After)
	}
	var match []certs.Record
	for _, r := range f.recs {
		if flt.Match(r) && (flt.After == "" || r.Identifier < flt.After) {
			match = append(match, r)
		}
	}
	slices.SortFunc(match, func(a, b certs.Record) int { return strings.Compare(string(b.Identifier), string(a.Identifier)) })
	match = match[min(flt.Offset, len(match)):]
	if flt.Limit > 0 && len(match) > flt.Limit {
		return match[:flt.Limit], match[flt.Limit-1].Identifier, nil
	}
	return match, "", nil
}

func (f *fakeStore) Count(ctx context.Context, flt certs.Filter) (int, error) {
	all, _, err := f.List(ctx, certs.Filter{Issuer: flt.Issuer, Kind: flt.Kind, State: flt.State, IncludeDeleted: flt.IncludeDeleted})
	return len(all), err
}

func (f *fakeStore) CA(_ context.Context, id certs.Identifier) (certs.CA, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ca, ok := f.cas[id]
	if f.err != nil {
		return certs.CA{}, f.err
	}
	if !ok {
		return ca, certs.CANotFound(id)
	}
	return ca, nil
}

func (f *fakeStore) CAs(context.Context) ([]certs.CA, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]certs.CA, 0, len(f.cas))
	for _, ca := range f.cas {
		out = append(out, ca)
	}
	return out, f.err
}

func (f *fakeStore) UpdateRecord(_ context.Context, id certs.Identifier, fn func(*certs.Record) error) (certs.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recs[id]
	switch {
	case f.err != nil:
		return certs.Record{}, f.err
	case !ok:
		return r, certs.CertNotFound(id)
	}
	if err := fn(&r); err != nil {
		return certs.Record{}, err
	}
	f.recs[id] = r
	return r, nil
}

func (f *fakeStore) UpdateCA(_ context.Context, id certs.Identifier, fn func(*certs.CA) error) (certs.CA, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ca, ok := f.cas[id]
	switch {
	case f.err != nil:
		return certs.CA{}, f.err
	case !ok:
		return ca, certs.CANotFound(id)
	}
	if err := fn(&ca); err != nil {
		return certs.CA{}, err
	}
	f.cas[id] = ca
	return ca, nil
}

func (f *fakeStore) Delete(ctx context.Context, id certs.Identifier, at time.Time) (certs.Record, error) {
	return f.UpdateRecord(ctx, id, func(r *certs.Record) error {
		if r.Deleted {
			return certs.CertNotFound(id)
		}
		r.Deleted, r.DeletedAt = true, at
		return nil
	})
}

// fakeCA is the Authority's roles (Issuer, Revoker, ChainReader) writing
// to a fakeStore; it records the requests it was given. err, when set,
// fails every call.
type fakeCA struct {
	store  *fakeStore
	mu     sync.Mutex
	issued []certs.IssueRequest
	err    error
}

// Issue stores a record under an identifier made from the count of
// issues so far.
func (a *fakeCA) Issue(_ context.Context, req certs.IssueRequest) (certs.Issued, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return certs.Issued{}, a.err
	}
	a.issued = append(a.issued, req)
	n := len(a.issued)
	r := certs.Record{Identifier: certs.Identifier(fmt.Sprintf("%032x", 0xc0ffee00+n)), Issuer: req.Issuer,
		Serial: certs.Serial(fmt.Sprintf("%02x", n)), Kind: req.Kind, State: certs.StateIssued}
	a.store.mu.Lock()
	a.store.recs[r.Identifier] = r
	a.store.mu.Unlock()
	return certs.Issued{Record: r}, nil
}

func (a *fakeCA) CreateRoot(_ context.Context, req certs.RootRequest) (certs.CA, error) {
	return a.createCA(certs.CA{Kind: certs.KindRootCA, Tags: req.Tags})
}

func (a *fakeCA) CreateSub(_ context.Context, req certs.SubRequest) (certs.CA, error) {
	return a.createCA(certs.CA{Kind: certs.KindSubCA, Parent: req.Parent, Tags: req.Tags})
}

func (a *fakeCA) createCA(ca certs.CA) (certs.CA, error) {
	if a.err != nil {
		return certs.CA{}, a.err
	}
	a.store.mu.Lock()
	defer a.store.mu.Unlock()
	ca.Identifier = certs.Identifier(fmt.Sprintf("%032x", 0xca00+len(a.store.cas)))
	ca.State = certs.StateIssued
	a.store.cas[ca.Identifier] = ca
	return ca, nil
}

// Revoke revokes as the CA does: once, for a revocable reason.
func (a *fakeCA) Revoke(ctx context.Context, id certs.Identifier, reason certs.Reason, at time.Time) (certs.Record, error) {
	if a.err != nil {
		return certs.Record{}, a.err
	}
	return a.store.UpdateRecord(ctx, id, func(r *certs.Record) error {
		if r.State == certs.StateRevoked {
			return fmt.Errorf("fake: %w", certs.ErrAlreadyRevoked)
		}
		r.State, r.RevokedAt, r.Reason = certs.StateRevoked, at, reason
		return nil
	})
}

func (a *fakeCA) RevokeCA(ctx context.Context, id certs.Identifier, reason certs.Reason, at time.Time) (certs.CA, error) {
	if a.err != nil {
		return certs.CA{}, a.err
	}
	return a.store.UpdateCA(ctx, id, func(ca *certs.CA) error {
		if ca.State == certs.StateRevoked {
			return fmt.Errorf("fake: %w", certs.ErrAlreadyRevoked)
		}
		ca.State, ca.RevokedAt, ca.Reason = certs.StateRevoked, at, reason
		return nil
	})
}

func (a *fakeCA) SetCADisabled(ctx context.Context, id certs.Identifier, disabled bool) (certs.CA, error) {
	if a.err != nil {
		return certs.CA{}, a.err
	}
	return a.store.UpdateCA(ctx, id, func(ca *certs.CA) error { ca.Disabled = disabled; return nil })
}

// Chain walks the parents in the fakeStore, id first.
func (a *fakeCA) Chain(ctx context.Context, id certs.Identifier) ([]certs.CA, error) {
	var chain []certs.CA
	for id != "" && len(chain) < 8 {
		ca, err := a.store.CA(ctx, id)
		if err != nil {
			return nil, err
		}
		chain, id = append(chain, ca), ca.Parent
	}
	return chain, nil
}

// fakeKeys is an AccessKeyReader.
type fakeKeys map[string]certs.AccessKey

func (f fakeKeys) AccessKey(_ context.Context, id string) (certs.AccessKey, error) {
	k, ok := f[id]
	if !ok {
		return k, fmt.Errorf("fake: access key %s: %w", id, certs.ErrNotFound)
	}
	return k, nil
}

// plainSealer is a Sealer whose sealed secrets are the secrets.
type plainSealer struct{}

func (plainSealer) Open(_, sealed []byte) ([]byte, error) { return sealed, nil }

// fakeTokens is a TokenStore. err, when set, fails every call.
type fakeTokens struct {
	mu  sync.Mutex
	m   map[string]fakeToken
	err error
}

type fakeToken struct {
	value []byte
	at    time.Time
}

func (f *fakeTokens) Token(_ context.Context, key string) ([]byte, time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.m[key]
	if f.err != nil {
		return nil, time.Time{}, f.err
	}
	if !ok {
		return nil, time.Time{}, fmt.Errorf("fake: token: %w", certs.ErrNotFound)
	}
	return t.value, t.at, nil
}

func (f *fakeTokens) PutToken(_ context.Context, key string, value []byte, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[key]; ok {
		return fmt.Errorf("fake: token: %w", certs.ErrExists)
	}
	if f.m == nil {
		f.m = map[string]fakeToken{}
	}
	f.m[key] = fakeToken{value: value, at: at}
	return f.err
}

func (f *fakeTokens) PruneTokens(_ context.Context, cutoff time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, t := range f.m {
		if t.at.Before(cutoff) {
			delete(f.m, k)
			n++
		}
	}
	return n, f.err
}

// fakeNonces is a NonceStore keyed by AccessKeyId and nonce. err, when
// set, fails every call.
type fakeNonces struct {
	mu  sync.Mutex
	m   map[[2]string]time.Time // expiry
	now func() time.Time
	err error
}

func (f *fakeNonces) UseNonce(_ context.Context, accessKeyID, nonce string, expires time.Time) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return false, f.err
	}
	k := [2]string{accessKeyID, nonce}
	if exp, ok := f.m[k]; ok && exp.After(f.now()) {
		return false, nil
	}
	if f.m == nil {
		f.m = map[[2]string]time.Time{}
	}
	f.m[k] = expires
	return true, nil
}

func (f *fakeNonces) PruneNonces(_ context.Context, cutoff time.Time, limit int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, exp := range f.m {
		if n < limit && exp.Before(cutoff) {
			delete(f.m, k)
			n++
		}
	}
	return n, f.err
}

// The fakes satisfy the roles they stand for.
var (
	_ StatusReader    = (*fakeStore)(nil)
	_ CertReader      = (*fakeStore)(nil)
	_ CAReader        = (*fakeStore)(nil)
	_ Changer         = (*fakeStore)(nil)
	_ Issuer          = (*fakeCA)(nil)
	_ Revoker         = (*fakeCA)(nil)
	_ ChainReader     = (*fakeCA)(nil)
	_ AccessKeyReader = fakeKeys(nil)
	_ Sealer          = plainSealer{}
	_ TokenStore      = (*fakeTokens)(nil)
	_ NonceStore      = (*fakeNonces)(nil)
)
