package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// TestServe_RevokeUnderLoad revokes certificates through the JSON API
// while clients keep asking about them by OCSP POST and GET: once a revoke
// call has returned, the very next OCSP answer (POST and GET) and the next
// DescribeClientCertificateStatus say revoked, and no answer to a request
// sent after the call returned says anything else (0 stale answers).
func TestServe_RevokeUnderLoad(t *testing.T) {
	e := newOCSPEnv(t)
	const n = 12
	ids := make([]string, n)
	reqs := make([][]byte, n)
	for i := range ids {
		ids[i] = e.issue(t, "--cn", "load")
		reqs[i] = ocspRequest(t, e.cert(t, ids[i]), e.subCert, nil)
	}
	e.serve(t)
	defer e.shutdown(t)

	var revokedAt [n]atomic.Int64 // unix nanos the revoke call returned; 0 before
	var stale, answers atomic.Int64
	ask := func(client *http.Client, i int, get bool) (int, error) {
		var res *http.Response
		var err error
		if get {
			res, err = client.Get(e.ocsp + "/" + base64.StdEncoding.EncodeToString(reqs[i]))
		} else {
			res, err = client.Post(e.ocsp, "application/ocsp-request", bytes.NewReader(reqs[i]))
		}
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		der, err := io.ReadAll(res.Body)
		if err != nil {
			return 0, err
		}
		r, err := ocsp.ParseResponseForCert(der, nil, e.subCert)
		if err != nil {
			return 0, err
		}
		return r.Status, nil
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
			for k := w; ; k++ {
				select {
				case <-done:
					return
				default:
				}
				i := k % n
				sentAfter := revokedAt[i].Load() // the revocation had returned before this request was sent
				status, err := ask(client, i, k%2 == 0)
				if err != nil {
					t.Errorf("OCSP under load: %v", err)
					return
				}
				answers.Add(1)
				if sentAfter != 0 && status != ocsp.Revoked {
					stale.Add(1)
				}
			}
		}()
	}
	client := &http.Client{}
	for i, id := range ids {
		time.Sleep(20 * time.Millisecond) // let the load see the certificate good first
		e.callAPI(t, "CreateRevokeClientCertificate", map[string]any{"Identifier": id, "Reason": "keyCompromise"})
		revokedAt[i].Store(time.Now().UnixNano())
		for _, get := range []bool{false, true} {
			if st, err := ask(client, i, get); err != nil || st != ocsp.Revoked {
				t.Errorf("certificate %d: the next OCSP answer (GET %v) after the revoke call: status %d, %v", i, get, st, err)
			}
		}
		out := e.callAPI(t, "DescribeClientCertificateStatus", map[string]any{"Identifier": id})
		list, _ := out["CertificateStatus"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["Status"] != "revoked" {
			t.Errorf("certificate %d: the next status query after the revoke call: %v", i, out)
		}
	}
	close(done)
	wg.Wait()
	if stale.Load() != 0 {
		t.Errorf("%d stale answers of %d under load", stale.Load(), answers.Load())
	}
	if answers.Load() < 2*n {
		t.Errorf("only %d answers under load", answers.Load())
	}
	t.Logf("%d OCSP answers under load, %d stale", answers.Load(), stale.Load())
}
