package responder

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// issuerSet indexes the issuers by CertID hashes. Several CAs can share a
// CertID's hashes (a renewed CA certificate with the same name and key):
// the one that issued the serial answers.
type issuerSet struct {
	byID   map[certs.Identifier]*issuerState
	byHash map[string][]*issuerState // hash ‖ nameHash ‖ keyHash
	byName map[string][]*issuerState // hash ‖ nameHash, for empty key hashes
	// byPrefix finds the issuer of a canonical CertID by the exact bytes
	// of its fields before the serial, for the quick path.
	byPrefix map[string]quickIssuer
}

func hashKey(h crypto.Hash, parts ...[]byte) string {
	var b bytes.Buffer
	b.WriteByte(byte(h))
	for _, p := range parts {
		b.Write(p)
	}
	return b.String()
}

// Reload asks Options.Issuers for the CAs and their signers again (after a
// CA is created or a responder certificate rotated).
//
// Reloads are serialised, so the set stored last is always the newest.
func (r *Responder) Reload(ctx context.Context) error {
	r.reloadRun.Lock()
	defer r.reloadRun.Unlock()
	list, err := r.opts.Issuers(ctx)
	if err != nil {
		return fmt.Errorf("responder: issuers: %w", err)
	}
	set := &issuerSet{byID: map[certs.Identifier]*issuerState{}, byHash: map[string][]*issuerState{}, byName: map[string][]*issuerState{},
		byPrefix: map[string]quickIssuer{}}
	for _, is := range list {
		st, err := newIssuerState(is, r.opts.ByName)
		if err != nil {
			return err
		}
		set.byID[is.ID] = st
		for _, h := range hashes {
			k := hashKey(h, st.nameHash[h], st.keyHash[h])
			set.byHash[k] = append(set.byHash[k], st)
			n := hashKey(h, st.nameHash[h])
			set.byName[n] = append(set.byName[n], st)
			p, err := st.certIDPrefix(h)
			if err != nil {
				return err
			}
			if _, dup := set.byPrefix[string(p)]; dup {
				set.byPrefix[string(p)] = quickIssuer{} // which one issued the serial is for Respond to find
			} else {
				set.byPrefix[string(p)] = quickIssuer{st: st, hash: h}
			}
		}
	}
	r.issues.Store(set)
	r.log.Debug("OCSP issuers loaded", "count", len(list))
	return nil
}

// reloadSoon reloads at most once a second, for requests naming an issuer
// not known yet. The slot is claimed before reloading, so a burst of such
// requests (anyone can send one) causes one reload, not one each.
func (r *Responder) reloadSoon(ctx context.Context) bool {
	r.reloadMu.Lock()
	due := time.Since(r.lastReload) >= time.Second // real time: the limit is about load
	if due {
		r.lastReload = time.Now()
	}
	r.reloadMu.Unlock()
	if !due {
		return false
	}
	if err := r.Reload(ctx); err != nil {
		r.log.Warn("OCSP issuer reload failed", "err", err)
		return false
	}
	return true
}

// Issuer returns the issuer state for a CA, for pre-signing.
func (r *Responder) issuer(ctx context.Context, id certs.Identifier) *issuerState {
	if st := r.issues.Load().byID[id]; st != nil {
		return st
	}
	if r.reloadSoon(ctx) {
		return r.issues.Load().byID[id]
	}
	return nil
}

// match finds the issuer of a CertID: by name and key hash, or by name
// alone when the key hash is empty or zero (Windows CryptoAPI).
func (r *Responder) match(ctx context.Context, id CertID) *issuerState {
	pick := func(c []*issuerState) *issuerState {
		if len(c) == 1 {
			return c[0]
		}
		// Several CAs match: take the one that issued the serial.
		for _, st := range c {
			if _, err := r.src.LookupStatus(ctx, st.ID, certs.SerialFromBig(id.Serial)); err == nil {
				return st
			}
		}
		return c[0]
	}
	for attempt := 0; attempt < 2; attempt++ {
		set := r.issues.Load()
		if c := set.byHash[hashKey(id.Hash, id.NameHash, id.KeyHash)]; len(c) > 0 {
			return pick(c)
		}
		if zeroOrEmpty(id.KeyHash) {
			if c := set.byName[hashKey(id.Hash, id.NameHash)]; len(c) > 0 {
				return pick(c)
			}
		}
		if attempt == 0 && !r.reloadSoon(ctx) {
			break
		}
	}
	return nil
}

func zeroOrEmpty(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
