package main

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("/metrics: %d", res.StatusCode)
	}
	return string(b)
}

// TestMetrics: answers by status and cause, API calls by action and code,
// authentication failures, store figures — and no unbounded label values.
func TestMetrics(t *testing.T) {
	e := newOCSPEnv(t)
	id := e.issue(t, "--cn", "metered")
	e.serve(t)
	cert := e.cert(t, id)
	req := ocspRequest(t, cert, e.subCert, nil)
	postOCSP(t, e.ocsp, req)                                           // pre-signed: good/cache
	postOCSP(t, e.ocsp, withNonce(t, req, []byte("0123456789abcdef"))) // live: good/nonce
	http.Post(e.ocsp, "application/ocsp-request", bytes.NewReader([]byte("junk")))
	e.callAPI(t, "DescribeCACertificateCount", nil)
	e.callAPI(t, "DescribeClientCertificateStatus", map[string]any{"Identifier": id})
	// An unknown action and a bad signature, through raw HTTP.
	http.Post(e.api+"/?Action=Foo"+strings.Repeat("x", 50)+"&Signature=x", "", nil)
	m := scrape(t, e.api)
	for _, want := range []string{
		`certstatus_ocsp_answers_total{cause="cache",outcome="good"} 1`,
		`certstatus_ocsp_answers_total{cause="nonce",outcome="good"} 1`,
		`certstatus_ocsp_answers_total{cause="asn1",outcome="malformed"} 1`,
		`certstatus_ocsp_requests_total{method="POST"} 3`,
		`certstatus_ocsp_signed_answers_total{source="cache"} 1`,
		`certstatus_ocsp_signed_answers_total{source="live"} 1`,
		`certstatus_api_calls_total{action="DescribeCACertificateCount",code="OK"} 1`,
		`certstatus_api_calls_total{action="DescribeClientCertificateStatus",code="OK"} 1`,
		`certstatus_api_calls_total{action="unknown",code="MissingParameter"} 1`,
		`certstatus_api_auth_failures_total{code="MissingParameter",signature="v1"} 1`,
		"certstatus_ocsp_sign_seconds_count",
		"certstatus_db_file_bytes",
		"certstatus_db_writes_total",
		"certstatus_db_commits_total",
		"certstatus_cas 2",
		"go_goroutines",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The same plain request again is served from the answer cache once
	// the first answer, signed live, has been stored.
	hits := regexp.MustCompile(`(?m)^certstatus_ocsp_answer_cache_hits_total (\d+)$`)
	for deadline := time.Now().Add(10 * time.Second); ; {
		postOCSP(t, e.ocsp, req)
		postOCSP(t, e.ocsp, req)
		m = scrape(t, e.api)
		if h := hits.FindStringSubmatch(m); h != nil && h[1] != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer cache hits after repeating a plain request for 10 s:\n%s", hits.FindString(m))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(m, "certstatus_ocsp_answer_cache_misses_total") {
		t.Error("/metrics lacks certstatus_ocsp_answer_cache_misses_total")
	}
	for _, leak := range []string{id, string(certs.SerialFromBig(cert.SerialNumber)), "Fooxxx", e.subID} {
		if strings.Contains(m, leak) {
			t.Errorf("/metrics contains an unbounded value %q", leak)
		}
	}
}
