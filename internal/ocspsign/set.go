package ocspsign

import (
	"bytes"
	"crypto"

	"github.com/certstatus/certstatus/certs"
)

// Set is the Signers of every CA answered for, indexed the ways a request
// names its issuer. The CA publishes a new Set when a CA or a responder
// certificate changes; a Set itself never changes, so readers hold one for
// a whole request without locks.
type Set struct {
	policy Policy
	// settled is true once every stored answer is known to be in its
	// signer's current form (see Settled).
	settled bool
	list    []*Signer
	byID    map[certs.Identifier]*Signer
	// Several CAs can share a CertID's hashes (a renewed CA certificate
	// with the same name and key): the one that issued the serial answers.
	byHash map[string][]*Signer // hash ‖ nameHash ‖ keyHash
	byName map[string][]*Signer // hash ‖ nameHash, for empty key hashes
	// byPrefix finds the signer of a canonical CertID by the exact bytes of
	// its fields before the serial (nil when several share them).
	byPrefix map[string]prefixEntry
}

type prefixEntry struct {
	s    *Signer
	hash crypto.Hash
}

func hashKey(h crypto.Hash, parts ...[]byte) string {
	var b bytes.Buffer
	b.WriteByte(byte(h))
	for _, p := range parts {
		b.Write(p)
	}
	return b.String()
}

// NewSet prepares every issuer under policy p. An issuer that cannot be
// prepared fails the whole Set: a Set never silently leaves a CA out.
func NewSet(p Policy, issuers ...Issuer) (*Set, error) {
	p, err := p.Resolve()
	if err != nil {
		return nil, err
	}
	set := &Set{policy: p, byID: map[certs.Identifier]*Signer{}, byHash: map[string][]*Signer{}, byName: map[string][]*Signer{},
		byPrefix: map[string]prefixEntry{}}
	for _, is := range issuers {
		s, err := New(is, p)
		if err != nil {
			return nil, err
		}
		set.list = append(set.list, s)
		set.byID[is.ID] = s
		for _, h := range Hashes {
			k := hashKey(h, s.nameHash[h], s.keyHash[h])
			set.byHash[k] = append(set.byHash[k], s)
			n := hashKey(h, s.nameHash[h])
			set.byName[n] = append(set.byName[n], s)
			pk := string(s.prefix[h])
			if _, dup := set.byPrefix[pk]; dup {
				set.byPrefix[pk] = prefixEntry{} // which one issued the serial is for a lookup to find
			} else {
				set.byPrefix[pk] = prefixEntry{s: s, hash: h}
			}
		}
	}
	return set, nil
}

// Settled returns a copy of s that says every stored answer of its
// signers is in their current form (Signer.Made holds for all of them), so
// that readers may skip that check. The writer calls it once it has
// re-signed every answer signed under other settings.
func (s *Set) Settled() *Set {
	c := *s
	c.settled = true
	return &c
}

// CheckForm reports whether a stored answer must pass Signer.Made before
// it is served: until the writer has settled the Set (see Settled).
func (s *Set) CheckForm() bool { return s == nil || !s.settled }

// Policy is the policy every Signer of the Set signs under.
func (s *Set) Policy() Policy { return s.policy }

// Signers lists the Set's signers in the order given to NewSet.
func (s *Set) Signers() []*Signer { return s.list }

// Get returns the signer of CA id, or nil.
func (s *Set) Get(id certs.Identifier) *Signer {
	if s == nil {
		return nil
	}
	return s.byID[id]
}

// Match returns the signers a CertID's hashes name: by name and key hash,
// or by name alone when the key hash is empty or all zeros (Windows
// CryptoAPI sends such). Several when CAs share the hashes.
func (s *Set) Match(h crypto.Hash, nameHash, keyHash []byte) []*Signer {
	if s == nil {
		return nil
	}
	if c := s.byHash[hashKey(h, nameHash, keyHash)]; len(c) > 0 {
		return c
	}
	if zeroOrEmpty(keyHash) {
		return s.byName[hashKey(h, nameHash)]
	}
	return nil
}

// ByPrefix returns the only signer whose canonical CertID fields before
// the serial are exactly prefix, and the hash they use. ok is false when
// none or several have them. It does not allocate.
func (s *Set) ByPrefix(prefix []byte) (*Signer, crypto.Hash, bool) {
	if s == nil {
		return nil, 0, false
	}
	e, ok := s.byPrefix[string(prefix)]
	return e.s, e.hash, ok && e.s != nil
}

func zeroOrEmpty(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
