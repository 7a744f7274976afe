package responder_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/responder"
)

// An unsupported hash is answered unauthorized (RFC 5019 §2.1.1: we serve
// none of its issuers) and counted under its own cause. The cause is read
// from the error's type, not its text: Respond's error must be both
// errUnauthorized and a *RequestError naming the reason.
func TestRespond_UnsupportedHashKeepsItsType(t *testing.T) {
	reg := prometheus.NewRegistry()
	w := newWorld(t, responder.Options{Metrics: responder.NewMetrics(reg)})
	id := certID(w.subCert, crypto.SHA1, big.NewInt(1), false, false)
	// Swap SHA-1's OID for one of the same length that is no hash we
	// serve (OIW dsaWithSHA1).
	sha1OID, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26})
	otherOID, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 3, 14, 3, 2, 27})
	id = replaceOnce(t, id, sha1OID, otherOID)
	der := buildRequest([][]byte{id}, nil)

	_, err := w.rsp.Respond(context.Background(), der)
	if !errors.Is(err, responder.ErrUnauthorized) {
		t.Fatalf("Respond: %v, want errUnauthorized", err)
	}
	var re *responder.RequestError
	if !errors.As(err, &re) || re.Reason != responder.ReasonUnsupportedHash {
		t.Fatalf("Respond: %v, want a *RequestError with reason %q", err, responder.ReasonUnsupportedHash)
	}

	body, _ := w.post(der)
	var rerr ocsp.ResponseError
	if _, err := ocsp.ParseResponse(body, nil); !errors.As(err, &rerr) || rerr.Status != ocsp.Unauthorized {
		t.Fatalf("HTTP answer: %v, want unauthorized", err)
	}
	answers, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got float64
	for _, mf := range answers {
		if mf.GetName() != "certstatus_ocsp_answers_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["outcome"] == "unauthorized" && labels["cause"] == responder.ReasonUnsupportedHash {
				got += m.GetCounter().GetValue()
			}
		}
	}
	if got != 1 {
		t.Errorf("unauthorized/%q answers = %v, want 1", responder.ReasonUnsupportedHash, got)
	}
}

func replaceOnce(t *testing.T, b, old, new []byte) []byte {
	t.Helper()
	if bytes.Count(b, old) != 1 {
		t.Fatalf("%x occurs %d times in %x", old, bytes.Count(b, old), b)
	}
	return bytes.Replace(b, old, new, 1)
}
