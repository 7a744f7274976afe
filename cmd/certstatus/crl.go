package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/certstatus/certstatus/certs"
)

// crlLocks serialises CRL regeneration per CA.
var crlLocks sync.Map // certs.Identifier → *sync.Mutex

// currentCRL returns CA id's CRL, regenerating it first when there is
// none, when a revocation made it stale, or when half its validity has
// passed. If regeneration fails, a stored CRL still within its validity is
// returned.
func (s *service) currentCRL(ctx context.Context, id certs.Identifier) (certs.CRL, error) {
	due := func(c certs.CRL, err error) bool {
		if err != nil || c.Stale || len(c.DER) == 0 {
			return true
		}
		now := time.Now()
		return !now.Before(c.ThisUpdate.Add(c.NextUpdate.Sub(c.ThisUpdate) / 2))
	}
	c, err := s.store.CRL(ctx, id)
	if err != nil && !errors.Is(err, certs.ErrNotFound) {
		return c, err
	}
	if !due(c, err) {
		return c, nil
	}
	mu, _ := crlLocks.LoadOrStore(id, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	c, err = s.store.CRL(ctx, id) // another request may have done it
	if err == nil && !due(c, nil) {
		return c, nil
	}
	fresh, uerr := s.ca.UpdateCRL(ctx, id, s.cfg.crl)
	if uerr == nil {
		return fresh, nil
	}
	// Fall back to the stored CRL only if it lists every revocation (not
	// stale) and has not expired; re-read it, another generation may have
	// succeeded meanwhile.
	if c, err := s.store.CRL(ctx, id); err == nil && !c.Stale && len(c.DER) > 0 && time.Now().Before(c.NextUpdate) {
		s.log.Warn("CRL regeneration failed; serving the stored one, which is current", "ca", id, "err", uerr)
		return c, nil
	}
	return certs.CRL{}, uerr
}

// crlHandler serves /crl/<ca>.crl (DER, application/pkix-crl, RFC 5280
// §4.2.1.13) and /crl/<ca>.pem, with the caching headers OCSP GET has.
func (s *service) crlHandler(c echo.Context) error {
	name, ext, _ := strings.Cut(c.Param("file"), ".")
	id, err := certs.ParseIdentifier(name)
	if err != nil || (ext != "crl" && ext != "pem") {
		return c.String(http.StatusNotFound, "no such CRL\n")
	}
	ctx := c.Request().Context()
	if _, err := s.store.CA(ctx, id); errors.Is(err, certs.ErrNotFound) {
		return c.String(http.StatusNotFound, "no such CA\n")
	}
	crl, err := s.currentCRL(ctx, id)
	if err != nil {
		s.log.Error("CRL unavailable", "ca", id, "err", err)
		return c.String(http.StatusServiceUnavailable, "CRL unavailable\n")
	}
	now := time.Now()
	refresh := crl.ThisUpdate.Add(crl.NextUpdate.Sub(crl.ThisUpdate) / 2)
	if crl.NextUpdate.Before(refresh) {
		refresh = crl.NextUpdate
	}
	maxAge := max(int64(refresh.Sub(now)/time.Second), 0)
	sum := sha256.Sum256(crl.DER)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := c.Response().Header()
	h.Set("Cache-Control", "public, no-transform, must-revalidate, max-age="+strconv.FormatInt(maxAge, 10))
	h.Set("ETag", etag)
	h.Set("Last-Modified", crl.ThisUpdate.UTC().Format(http.TimeFormat))
	h.Set("Expires", now.Add(time.Duration(maxAge)*time.Second).UTC().Format(http.TimeFormat))
	if inm := c.Request().Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
		return c.NoContent(http.StatusNotModified)
	}
	if ext == "pem" {
		return c.Blob(http.StatusOK, "application/x-pem-file", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl.DER}))
	}
	return c.Blob(http.StatusOK, "application/pkix-crl", crl.DER)
}

// runCRLs keeps every CA's CRL current until ctx ends: regenerated when
// stale, missing or past half its validity, well before nextUpdate.
func (s *service) runCRLs(ctx context.Context) {
	interval := min(s.cfg.crl.Validity/4, 15*time.Minute)
	for {
		cas, err := s.store.CAs(ctx)
		if err == nil {
			for _, c := range cas {
				if time.Now().Before(c.NotAfter) {
					if _, err := s.currentCRL(ctx, c.Identifier); err != nil && ctx.Err() == nil {
						s.log.Warn("CRL refresh failed", "ca", c.Identifier, "err", err)
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
