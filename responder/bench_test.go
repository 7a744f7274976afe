package responder_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/certstatus/certstatus/responder"
)

// BenchmarkRespond compares the three answer paths in one run: a
// pre-signed answer read from the store, a live-signed nonce answer, and
// the raw ECDSA P-256 signature that bounds live signing.
func BenchmarkRespond(b *testing.B) {
	w := newWorld(b, responder.Options{MaxLiveSigning: 1024})
	_, c := w.issue("bench")
	ctx := context.Background()
	plain := request(b, c, w.subCert, crypto.SHA1)
	nonce := buildRequest([][]byte{certID(w.subCert, crypto.SHA1, c.SerialNumber, false, false)}, []byte("0123456789abcdef"))
	if a, err := w.rsp.Respond(ctx, plain); err != nil || !a.Cached {
		b.Fatalf("not pre-signed: %v", err)
	}
	b.Run("presigned", func(b *testing.B) {
		for b.Loop() {
			if _, err := w.rsp.Respond(ctx, plain); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nonce-live", func(b *testing.B) {
		for b.Loop() {
			if _, err := w.rsp.Respond(ctx, nonce); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-ecdsa-p256-sign", func(b *testing.B) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		d := sha256.Sum256([]byte("tbs"))
		for b.Loop() {
			k.Sign(rand.Reader, d[:], crypto.SHA256)
		}
	})
	b.Run("http-get-presigned", func(b *testing.B) {
		req := httptest.NewRequest(http.MethodGet, "/"+base64.StdEncoding.EncodeToString(plain), nil)
		for b.Loop() {
			rec := httptest.NewRecorder()
			w.rsp.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatal(rec.Code)
			}
		}
	})
	b.Run("http-post-presigned", func(b *testing.B) {
		for b.Loop() {
			rec := httptest.NewRecorder()
			w.rsp.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(plain)))
			if rec.Code != 200 {
				b.Fatal(rec.Code)
			}
		}
	})
}
