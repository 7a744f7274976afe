package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ram"
)

// BenchmarkDescribeClientCertificateStatus compares one status query of 1
// identifier with one of 1,000, through the real HTTP server with V1
// signatures, in the same run: the per-identifier cost must be small next
// to the per-request cost (issue 6: 1,000 identifiers in under 20× the
// time of 1). "http" is a whole call over 127.0.0.1 with the client's
// signing and reading in the loop; "handler" is the server's share alone
// (signature check, RAM, rate limit, parameters, lookup, JSON).
func BenchmarkDescribeClientCertificateStatus(b *testing.B) {
	e := newEnv(b, nil)
	k := e.newKey("bench", ram.AllowAll, 1_000_000)
	ctx := context.Background()
	ids := make([]string, 1000)
	for i := range ids {
		out, err := e.auth.Issue(ctx, certs.IssueRequest{Issuer: e.sub.Identifier, Kind: certs.KindClient,
			Subject: certs.Subject{CommonName: "bench"}, Validity: certs.Validity{Days: 30}})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = string(out.Record.Identifier)
		if i%10 == 0 {
			if _, err := e.auth.Revoke(ctx, out.Record.Identifier, certs.KeyCompromise, out.Record.NotBefore); err != nil {
				b.Fatal(err)
			}
		}
	}
	handler := e.srv.Config.Handler
	serialField := []byte(`"SerialNumber"`)
	client := e.srv.Client()
	for _, n := range []int{1, 1000} {
		list := strings.Join(ids[:n], ",")
		// A whole call as a client sees it: sign, send over 127.0.0.1, read.
		b.Run(fmt.Sprintf("http/ids=%d", n), func(b *testing.B) {
			for b.Loop() {
				v := signV1(http.MethodGet, k, v1Params(k, "DescribeClientCertificateStatus", map[string]string{"Identifier": list}))
				res, err := client.Get(e.srv.URL + "/?" + v.Encode())
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || bytes.Count(body, serialField) != n {
					b.Fatalf("HTTP %d: %.300s", res.StatusCode, body)
				}
			}
		})
		b.Run(fmt.Sprintf("handler/ids=%d", n), func(b *testing.B) {
			// Nonces are single-use: sign every request before the clock
			// starts, so that only the server's work is measured.
			reqs := make([]*http.Request, b.N)
			for i := range reqs {
				v := signV1(http.MethodGet, k, v1Params(k, "DescribeClientCertificateStatus", map[string]string{"Identifier": list}))
				reqs[i] = httptest.NewRequest(http.MethodGet, "/?"+v.Encode(), nil)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, reqs[i])
				if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `"SerialNumber"`) != n {
					b.Fatalf("HTTP %d: %.300s", rec.Code, rec.Body.String())
				}
			}
		})
	}
}
