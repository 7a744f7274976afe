package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/certstatus/certstatus/certs"
)

// readyPart is one part of the service /readyz checks.
type readyPart struct {
	// Name says what the part is: "store", "issuing", "ocsp-signer/<ca>",
	// "ocsp-refresh", or what a component added (readyCheck).
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Detail says why the part fails, or what it holds when it passes.
	Detail string `json:"detail,omitempty"`
}

// readyCheck is a part of readiness that a component of serve adds to
// service.readyChecks when it starts: the API listener's TLS certificate,
// for one. It is called on every /readyz request.
type readyCheck func(ctx context.Context) readyPart

// readyReport is the /readyz body: every part by name, "ready" when all
// pass, else "not ready" with the first failing part's detail as reason.
type readyReport struct {
	Status string      `json:"status"`
	Reason string      `json:"reason,omitempty"`
	Parts  []readyPart `json:"parts"`
}

// report sums parts up, with the HTTP status /readyz answers: 200 when
// every part passes, else 503.
func report(parts []readyPart) (int, readyReport) {
	r := readyReport{Status: "ready", Parts: parts}
	for _, p := range parts {
		if !p.OK {
			r.Status, r.Reason = "not ready", p.Detail
			return http.StatusServiceUnavailable, r
		}
	}
	return http.StatusOK, r
}

// readyz answers /readyz on the API listener.
func (s *service) readyz(c echo.Context) error {
	return c.JSON(report(s.readiness(c.Request().Context())))
}

// readiness checks each part of the service, in order: the store
// (readable and writable), issuance, each CA's OCSP signer, the refresh of
// pre-signed answers, then the parts components added (readyChecks).
//
// Issuance is a part only where a CA issues: a data directory with a sub
// CA that has its key must have one that can issue now. A directory whose
// CAs were imported to answer for their certificates — a single-level
// OpenSSL CA, or sub CAs without their keys — answers OCSP and serves CRLs
// only, and is ready without one.
func (s *service) readiness(ctx context.Context) []readyPart {
	part := func(name string, err error, ok string) readyPart {
		if err != nil {
			return readyPart{Name: name, Detail: err.Error()}
		}
		return readyPart{Name: name, OK: true, Detail: ok}
	}
	cas, err := s.store.CAs(ctx)
	if err != nil {
		return append([]readyPart{part("store", fmt.Errorf("store: %w", err), "")}, s.extraReady(ctx)...)
	}
	var parts []readyPart
	if err := s.store.Writable(); err != nil {
		parts = append(parts, part("store", fmt.Errorf("store not writable (reads are still answered): %w", err), ""))
	} else {
		parts = append(parts, part("store", nil, "readable and writable"))
	}
	now := time.Now()
	issuers, usable := 0, 0
	for _, c := range cas {
		if c.Kind == certs.KindSubCA && len(c.SealedKey) > 0 {
			issuers++
			if c.CanIssueAt(now) == nil {
				usable++
			}
		}
	}
	switch {
	case issuers == 0:
		parts = append(parts, part("issuing", nil, "no CA here issues (no sub CA with its key): OCSP and CRLs only"))
	case usable == 0:
		parts = append(parts, part("issuing", fmt.Errorf("no sub CA can issue (all revoked, disabled or expired)"), ""))
	default:
		parts = append(parts, part("issuing", nil, fmt.Sprintf("%d of %d sub CAs can issue", usable, issuers)))
	}
	if s.rsp != nil {
		for _, c := range cas {
			if len(c.SealedKey) == 0 {
				continue // keyless imported CAs have no signer
			}
			parts = append(parts, part("ocsp-signer/"+string(c.Identifier), s.rsp.Ready([]certs.Identifier{c.Identifier}), subjectCN(c.DER)))
		}
		parts = append(parts, part("ocsp-refresh", s.ca.OCSPReady(), "pre-signed answers refreshed on time"))
	}
	return append(parts, s.extraReady(ctx)...)
}

// extraReady runs the checks components added.
func (s *service) extraReady(ctx context.Context) []readyPart {
	var parts []readyPart
	for _, check := range s.readyChecks {
		parts = append(parts, check(ctx))
	}
	return parts
}
