package responder_test

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"io"
	"maps"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
)

// The responder on fakes: no store, no CA. A fakeSource holds the status
// facts and the stored answers in two maps, and fakeSigners a Set built
// here.

type certKey struct {
	ca     certs.Identifier
	serial certs.Serial
}

type answerKey struct {
	certKey
	h crypto.Hash
}

// fakeSource is a Source over a map of status facts and a map of stored
// answers. failLookup, when set, is LookupStatus's error. It records
// every call, and has the write methods *db.Store has beside the reads,
// so that a test sees a responder that ever found and used them.
type fakeSource struct {
	mu         sync.Mutex
	facts      map[certKey]certs.StatusFacts
	answers    map[answerKey]certs.OCSPResponse
	failLookup error
	calls      map[string]int
}

func newFakeSource() *fakeSource {
	return &fakeSource{facts: map[certKey]certs.StatusFacts{}, answers: map[answerKey]certs.OCSPResponse{}, calls: map[string]int{}}
}

// serialOf is the Serial of a CertID's serialNumber contents.
func serialOf(contents []byte) certs.Serial {
	return certs.SerialFromBig(new(big.Int).SetBytes(contents))
}

func (f *fakeSource) LookupStatus(_ context.Context, issuer certs.Identifier, serial certs.Serial) (certs.StatusFacts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["LookupStatus"]++
	if f.failLookup != nil {
		return certs.StatusFacts{}, f.failLookup
	}
	facts, ok := f.facts[certKey{issuer, serial}]
	if !ok {
		return certs.StatusFacts{}, fmt.Errorf("fake: serial %s of CA %s: %w", serial, issuer, certs.ErrNotFound)
	}
	return facts, nil
}

func (f *fakeSource) AppendOCSPResponse(_ context.Context, dst []byte, issuer certs.Identifier, serial []byte, h crypto.Hash) ([]byte, certs.OCSPResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["AppendOCSPResponse"]++
	o, ok := f.answers[answerKey{certKey{issuer, serialOf(serial)}, h}]
	if !ok {
		return dst, certs.OCSPResponse{}, certs.ErrNotFound
	}
	start := len(dst)
	dst = append(dst, o.DER...)
	o.DER = dst[start:]
	return dst, o, nil
}

func (f *fakeSource) HasSerial(_ context.Context, issuer certs.Identifier, serial []byte) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["HasSerial"]++
	_, ok := f.facts[certKey{issuer, serialOf(serial)}]
	return ok, nil
}

// PutOCSPResponses and PutResponder are writes *db.Store has: not part of
// Source, and never to be called by a responder.
func (f *fakeSource) PutOCSPResponses(_ context.Context, rs ...certs.OCSPResponse) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["PutOCSPResponses"]++
	return 0, nil
}

func (f *fakeSource) PutResponder(context.Context, certs.Responder) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["PutResponder"]++
	return nil
}

func (f *fakeSource) setFacts(ca certs.Identifier, facts certs.StatusFacts) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.facts[certKey{ca, facts.Serial}] = facts
}

func (f *fakeSource) store(o certs.OCSPResponse) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[answerKey{certKey{o.Issuer, o.Serial}, o.Hash}] = o
}

func (f *fakeSource) setFailLookup(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failLookup = err
}

// callsTo returns how many times each method was called.
func (f *fakeSource) callsTo() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.calls)
}

// snapshot is the fake's data at one time.
type snapshot struct {
	facts   map[certKey]certs.StatusFacts
	answers map[answerKey]certs.OCSPResponse
}

func (f *fakeSource) snapshot() snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return snapshot{maps.Clone(f.facts), maps.Clone(f.answers)}
}

// checkOnlyReads fails t if a method other than Source's reads was
// called.
func (f *fakeSource) checkOnlyReads(t *testing.T) {
	t.Helper()
	for m, n := range f.callsTo() {
		switch m {
		case "LookupStatus", "AppendOCSPResponse", "HasSerial":
		default:
			t.Errorf("the responder called %s %d times", m, n)
		}
	}
}

// checkReadOnly is checkOnlyReads, and fails t unless the data is what it
// was before.
func (f *fakeSource) checkReadOnly(t *testing.T, before snapshot) {
	t.Helper()
	f.checkOnlyReads(t)
	now := f.snapshot()
	if !maps.Equal(now.facts, before.facts) || !maps.EqualFunc(now.answers, before.answers, func(a, b certs.OCSPResponse) bool {
		return bytes.Equal(a.DER, b.DER) && a.Status == b.Status && a.ThisUpdate.Equal(b.ThisUpdate) && a.NextUpdate.Equal(b.NextUpdate)
	}) {
		t.Error("the fake's facts or answers changed")
	}
}

// fakeSigners publishes a Set built in the test, and counts the lookups.
type fakeSigners struct {
	set   atomic.Pointer[ocspsign.Set]
	calls atomic.Int64
}

func (s *fakeSigners) OCSPSigners() *ocspsign.Set {
	s.calls.Add(1)
	return s.set.Load()
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// blockingSigner signs once release is closed, and says on started when
// a signature begins.
type blockingSigner struct {
	crypto.Signer
	started chan struct{}
	release chan struct{}
}

func (b *blockingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	select {
	case b.started <- struct{}{}:
	default:
	}
	<-b.release
	return b.Signer.Sign(r, digest, opts)
}

// constSigner "signs" with a constant: for tests that count answers and
// never verify them.
type constSigner struct{ crypto.Signer }

func (constSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, nil
}
