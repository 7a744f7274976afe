package responder

import (
	"context"
	"fmt"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
)

// match finds the signer of a CertID in set: by name and key hash, or by
// name alone when the key hash is empty or zero (Windows CryptoAPI). An
// issuer not in the set is not served: nothing is loaded on its account.
func (r *Responder) match(ctx context.Context, set *ocspsign.Set, id CertID) *ocspsign.Signer {
	c := set.Match(id.Hash, id.NameHash, id.KeyHash)
	switch len(c) {
	case 0:
		return nil
	case 1:
		return c[0]
	}
	// Several CAs match: take the one that issued the serial.
	for _, s := range c {
		if _, err := r.src.LookupStatus(ctx, s.ID, certs.SerialFromBig(id.Serial)); err == nil {
			return s
		}
	}
	return c[0]
}

// Ready reports why the responder cannot answer as it should: it needs a
// signer for every CA in ids (the CAs with a key in the store).
func (r *Responder) Ready(ids []certs.Identifier) error {
	set := r.set()
	for _, id := range ids {
		if set.Get(id) == nil {
			return fmt.Errorf("responder: no OCSP signer loaded for CA %s", id)
		}
	}
	return nil
}
