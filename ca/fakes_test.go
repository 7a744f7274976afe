package ca_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// fakeStore is ca's store on maps: Store, OCSPStore (with ResponderStore)
// and CRLStore, a few lines per method, keeping the contracts of
// *db.Store that ca relies on — Revoke refuses a second revocation and
// stores only answers that say what the record now says; UpdateCA calls
// fn on a copy and stores it only on a nil error; CAChain runs id first
// up to its root; PutOCSPResponses keeps an answer only while its record
// says the same status. Each write checks before it writes, so an error
// leaves the maps as they were. fail[group] is the error of every method
// in that group (see groupOf); calls counts the calls to each method. The
// tests on *db.Store are the integration tests.
type fakeStore struct {
	mu         sync.Mutex
	cas        map[certs.Identifier]certs.CA
	caOrder    []certs.Identifier // CAs returns them in the order they were stored
	recs       map[certs.Identifier]certs.Record
	answers    map[string]certs.OCSPResponse // answerKey → answer
	responders map[certs.Identifier]certs.Responder
	crls       map[certs.Identifier]certs.CRL
	revisions  map[certs.Identifier]uint64 // revocations per issuer: a CRL built before the last one is stale
	corrupt    map[certs.Serial]bool       // LookupStatus fails with certs.ErrCorrupt for these
	fail       map[string]error
	calls      map[string]int
	beforeList func() // if set, List calls it first, outside the lock
}

// The method groups fail switches on.
var groupOf = map[string]string{
	"CA": "ca", "CAChain": "ca", "CAs": "ca",
	"PutCA": "ca-write", "UpdateCA": "ca-write",
	"Get": "get", "Put": "put", "Revoke": "revoke", "LookupStatus": "status",
	"Responder": "responder", "PutResponder": "responder-write",
	"OCSPResponsesDue": "answers", "PutOCSPResponses": "answers-write",
	"CRL": "crl", "List": "crl", "PutCRL": "crl-write",
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		cas: map[certs.Identifier]certs.CA{}, recs: map[certs.Identifier]certs.Record{},
		answers: map[string]certs.OCSPResponse{}, responders: map[certs.Identifier]certs.Responder{},
		crls: map[certs.Identifier]certs.CRL{}, revisions: map[certs.Identifier]uint64{},
		corrupt: map[certs.Serial]bool{}, fail: map[string]error{}, calls: map[string]int{},
	}
}

// call counts a call to method and returns its group's error; f.mu is held.
func (f *fakeStore) call(method string) error {
	f.calls[method]++
	if err := f.fail[groupOf[method]]; err != nil {
		return fmt.Errorf("fake %s: %w", method, err)
	}
	return nil
}

// answerKey orders answers as db does: by issuer, then serial (shorter
// first), then hash.
func answerKey(issuer certs.Identifier, serial certs.Serial, h crypto.Hash) string {
	return fmt.Sprintf("%s/%03d/%s/%02d", issuer, len(serial), serial, int(h))
}

// stateOf is the state of what issuer issued with serial: a certificate
// or a sub CA.
func (f *fakeStore) stateOf(issuer certs.Identifier, serial certs.Serial) (certs.Record, bool) {
	for _, r := range f.recs {
		if r.Issuer == issuer && r.Serial == serial {
			return r, true
		}
	}
	for _, c := range f.cas {
		if c.Parent == issuer && c.Serial == serial {
			return c.AsRecord(), true
		}
	}
	return certs.Record{}, false
}

// checkAnswers is db's checkResponses: each answer is about r and says
// what r says.
func checkAnswers(r certs.Record, rs []certs.OCSPResponse) error {
	want := certs.Good
	if r.State == certs.StateRevoked {
		want = certs.Revoked
	}
	for _, o := range rs {
		if err := o.Validate(); err != nil {
			return err
		}
		if o.Issuer != r.Issuer || o.Serial != r.Serial || o.Status != want {
			return fmt.Errorf("fake: %w: answer %s/%s (%v) is not about %s/%s (%v)", certs.ErrInvalid, o.Issuer, o.Serial, o.Status, r.Issuer, r.Serial, want)
		}
	}
	return nil
}

// writeAnswer stores o unless a newer answer with the same status is kept.
func (f *fakeStore) writeAnswer(o certs.OCSPResponse) bool {
	k := answerKey(o.Issuer, o.Serial, o.Hash)
	if prev, ok := f.answers[k]; ok && prev.Status == o.Status && prev.ThisUpdate.After(o.ThisUpdate) {
		return false
	}
	o.DER = slices.Clone(o.DER)
	f.answers[k] = o
	return true
}

// dropAnswers deletes every hash variant of (issuer, serial).
func (f *fakeStore) dropAnswers(issuer certs.Identifier, serial certs.Serial) {
	for k, o := range f.answers {
		if o.Issuer == issuer && o.Serial == serial {
			delete(f.answers, k)
		}
	}
}

func cloneCA(c certs.CA) certs.CA {
	c.DER, c.SealedKey = slices.Clone(c.DER), slices.Clone(c.SealedKey)
	c.ExtKeyUsages, c.Tags = slices.Clone(c.ExtKeyUsages), slices.Clone(c.Tags)
	return c
}

func (f *fakeStore) CA(_ context.Context, id certs.Identifier) (certs.CA, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CA"); err != nil {
		return certs.CA{}, err
	}
	c, ok := f.cas[id]
	if !ok {
		return certs.CA{}, fmt.Errorf("fake: %w", certs.CANotFound(id))
	}
	return cloneCA(c), nil
}

func (f *fakeStore) CAChain(_ context.Context, id certs.Identifier) ([]certs.CA, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CAChain"); err != nil {
		return nil, err
	}
	var chain []certs.CA
	for next := id; next != ""; next = chain[len(chain)-1].Parent {
		c, ok := f.cas[next]
		if !ok {
			return nil, fmt.Errorf("fake: %w", certs.CANotFound(next))
		}
		if len(chain) == 16 {
			return nil, fmt.Errorf("fake: chain of CA %s is longer than 16 CAs", id)
		}
		chain = append(chain, cloneCA(c))
	}
	return chain, nil
}

func (f *fakeStore) CAs(context.Context) ([]certs.CA, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CAs"); err != nil {
		return nil, err
	}
	var out []certs.CA
	for _, id := range f.caOrder {
		out = append(out, cloneCA(f.cas[id]))
	}
	return out, nil
}

func (f *fakeStore) PutCA(_ context.Context, c certs.CA) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutCA"); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if _, ok := f.cas[c.Identifier]; ok {
		return fmt.Errorf("fake: %w: CA %s", certs.ErrExists, c.Identifier)
	}
	if c.Kind == certs.KindSubCA {
		if _, ok := f.cas[c.Parent]; !ok {
			return fmt.Errorf("fake: parent: %w", certs.CANotFound(c.Parent))
		}
		if _, taken := f.stateOf(c.Parent, c.Serial); taken {
			return fmt.Errorf("fake: %w: serial %s of CA %s", certs.ErrExists, c.Serial, c.Parent)
		}
	}
	f.cas[c.Identifier] = cloneCA(c)
	f.caOrder = append(f.caOrder, c.Identifier)
	return nil
}

func (f *fakeStore) UpdateCA(_ context.Context, id certs.Identifier, fn func(*certs.CA) error) (certs.CA, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UpdateCA"); err != nil {
		return certs.CA{}, err
	}
	old, ok := f.cas[id]
	if !ok {
		return certs.CA{}, fmt.Errorf("fake: %w", certs.CANotFound(id))
	}
	c := cloneCA(old)
	if err := fn(&c); err != nil {
		return certs.CA{}, err
	}
	if c.Identifier != old.Identifier || c.Parent != old.Parent || c.Serial != old.Serial || c.Kind != old.Kind ||
		!bytes.Equal(c.DER, old.DER) || !bytes.Equal(c.SealedKey, old.SealedKey) {
		return certs.CA{}, fmt.Errorf("fake: update CA %s: %w: the certificate's own fields cannot change", id, certs.ErrInvalid)
	}
	if err := c.Validate(); err != nil {
		return certs.CA{}, err
	}
	if c.State != old.State && c.Kind == certs.KindSubCA {
		f.dropAnswers(c.Parent, c.Serial) // the parent's answers about it are now wrong
		f.revisions[c.Parent]++
	}
	f.cas[id] = cloneCA(c)
	return c, nil
}

func (f *fakeStore) Get(_ context.Context, id certs.Identifier) (certs.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Get"); err != nil {
		return certs.Record{}, err
	}
	r, ok := f.recs[id]
	if !ok {
		return certs.Record{}, fmt.Errorf("fake: %w", certs.CertNotFound(id))
	}
	return r, nil
}

func (f *fakeStore) Put(_ context.Context, r certs.Record, responses ...certs.OCSPResponse) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Put"); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if err := checkAnswers(r, responses); err != nil {
		return err
	}
	if _, ok := f.recs[r.Identifier]; ok {
		return fmt.Errorf("fake: %w: certificate %s", certs.ErrExists, r.Identifier)
	}
	if _, ok := f.cas[r.Issuer]; !ok {
		return fmt.Errorf("fake: issuing CA: %w", certs.CANotFound(r.Issuer))
	}
	if _, taken := f.stateOf(r.Issuer, r.Serial); taken {
		return fmt.Errorf("fake: %w: serial %s of CA %s", certs.ErrExists, r.Serial, r.Issuer)
	}
	for _, o := range f.recs {
		if r.CustomIdentifier != "" && o.CustomIdentifier == r.CustomIdentifier {
			return fmt.Errorf("fake: %w: custom identifier %q", certs.ErrExists, r.CustomIdentifier)
		}
	}
	f.recs[r.Identifier] = r
	for _, o := range responses {
		f.writeAnswer(o)
	}
	return nil
}

func (f *fakeStore) Revoke(_ context.Context, id certs.Identifier, reason certs.Reason, at time.Time, responses ...certs.OCSPResponse) (certs.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Revoke"); err != nil {
		return certs.Record{}, err
	}
	r, ok := f.recs[id]
	if !ok {
		return certs.Record{}, fmt.Errorf("fake: %w", certs.CertNotFound(id))
	}
	if r.State == certs.StateRevoked {
		return r, fmt.Errorf("fake: revoke %s: %w", id, certs.ErrAlreadyRevoked)
	}
	r.State, r.RevokedAt, r.Reason = certs.StateRevoked, at, reason
	if err := r.Validate(); err != nil {
		return certs.Record{}, err
	}
	if err := checkAnswers(r, responses); err != nil {
		return certs.Record{}, err
	}
	f.recs[id] = r
	f.dropAnswers(r.Issuer, r.Serial)
	f.revisions[r.Issuer]++
	for _, o := range responses {
		f.writeAnswer(o)
	}
	return r, nil
}

func (f *fakeStore) Responder(_ context.Context, ca certs.Identifier) (certs.Responder, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Responder"); err != nil {
		return certs.Responder{}, err
	}
	r, ok := f.responders[ca]
	if !ok {
		return certs.Responder{}, fmt.Errorf("fake: %w: responder of CA %s", certs.ErrNotFound, ca)
	}
	return r, nil
}

func (f *fakeStore) PutResponder(_ context.Context, r certs.Responder) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutResponder"); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if _, ok := f.cas[r.CA]; !ok {
		return fmt.Errorf("fake: %w", certs.CANotFound(r.CA))
	}
	f.responders[r.CA] = r
	return nil
}

func (f *fakeStore) LookupStatus(_ context.Context, issuer certs.Identifier, serial certs.Serial) (certs.StatusFacts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("LookupStatus"); err != nil {
		return certs.StatusFacts{}, err
	}
	if f.corrupt[serial] {
		return certs.StatusFacts{}, fmt.Errorf("fake: serial %s of CA %s: %w", serial, issuer, certs.ErrCorrupt)
	}
	r, ok := f.stateOf(issuer, serial)
	if !ok {
		return certs.StatusFacts{}, fmt.Errorf("fake: %w: serial %s of CA %s", certs.ErrNotFound, serial, issuer)
	}
	return r.Facts(), nil
}

// OCSPResponsesDue calls fn outside the lock, as db asks fn not to write.
func (f *fakeStore) OCSPResponsesDue(_ context.Context, cutoff time.Time, after []byte, limit int, fn func(certs.OCSPResponse) error) ([]byte, error) {
	f.mu.Lock()
	if err := f.call("OCSPResponsesDue"); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	var (
		due  []certs.OCSPResponse
		next []byte
	)
	for _, k := range slices.Sorted(maps.Keys(f.answers)) {
		o := f.answers[k]
		if k <= string(after) || !o.ThisUpdate.Before(cutoff) {
			continue
		}
		if len(due) == limit {
			next = []byte(answerKey(due[limit-1].Issuer, due[limit-1].Serial, due[limit-1].Hash))
			break
		}
		o.DER = slices.Clone(o.DER)
		due = append(due, o)
	}
	f.mu.Unlock()
	for _, o := range due {
		if err := fn(o); err != nil {
			return nil, err
		}
	}
	return next, nil
}

func (f *fakeStore) PutOCSPResponses(_ context.Context, rs ...certs.OCSPResponse) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutOCSPResponses"); err != nil {
		return 0, err
	}
	for _, o := range rs {
		if err := o.Validate(); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, o := range rs {
		r, ok := f.stateOf(o.Issuer, o.Serial)
		if ok && (r.State == certs.StateRevoked) == (o.Status == certs.Revoked) && f.writeAnswer(o) {
			n++
		}
	}
	return n, nil
}

func (f *fakeStore) CRL(_ context.Context, id certs.Identifier) (certs.CRL, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CRL"); err != nil {
		return certs.CRL{}, err
	}
	return f.currentCRL(id)
}

// currentCRL is db's: the stored CRL, stale when a revocation came after
// the revision it was built from.
func (f *fakeStore) currentCRL(id certs.Identifier) (certs.CRL, error) {
	rev := f.revisions[id]
	c, ok := f.crls[id]
	if !ok {
		if rev == 0 {
			return certs.CRL{}, fmt.Errorf("fake: %w: CRL of CA %s", certs.ErrNotFound, id)
		}
		return certs.CRL{CA: id, Stale: true, Revision: rev}, nil
	}
	c.Stale = c.Stale || c.Revision != rev
	c.Revision = rev
	return c, nil
}

func (f *fakeStore) PutCRL(_ context.Context, c certs.CRL) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PutCRL"); err != nil {
		return err
	}
	if _, ok := f.cas[c.CA]; !ok || len(c.DER) == 0 || c.Number == 0 {
		return fmt.Errorf("fake: put CRL: %w", certs.ErrInvalid)
	}
	cur, err := f.currentCRL(c.CA)
	if err != nil && !errors.Is(err, certs.ErrNotFound) {
		return err
	}
	if c.Number <= cur.Number {
		return fmt.Errorf("fake: put CRL: %w: number %d is not above %d", certs.ErrExists, c.Number, cur.Number)
	}
	c.Stale = cur.Revision != c.Revision
	c.Revision = cur.Revision
	f.crls[c.CA] = c
	return nil
}

// List returns the records fl matches, newest first; ca never pages, and
// neither does the fake.
func (f *fakeStore) List(_ context.Context, fl certs.Filter) ([]certs.Record, certs.Identifier, error) {
	f.mu.Lock()
	hook := f.beforeList
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("List"); err != nil {
		return nil, "", err
	}
	if fl.After != "" || fl.Offset != 0 || fl.Limit != 0 {
		return nil, "", errors.New("fake: List pages only as a whole")
	}
	var out []certs.Record
	for _, r := range f.recs {
		if fl.Match(r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b certs.Record) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.Identifier, a.Identifier))
	})
	return out, "", nil
}
