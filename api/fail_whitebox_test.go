package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/certs"
)

// Every handler answers an error of the store or the CA through fail: a
// domain error keeps its code and status; anything else is InternalError,
// logged with the operation's name; a cancelled client is 499.
func TestFail_OneMapping(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
	live := &call{ctx: context.Background(), action: "CreateClientCertificate", requestID: "r1"}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	closed := &call{ctx: gone, action: "CreateClientCertificate", requestID: "r2"}
	tests := []struct {
		name       string
		c          *call
		err        error
		wantStatus int
		wantCode   string
		wantLog    bool
	}{
		{"domain/already revoked", live, fmt.Errorf("ca: revoke: %w", certs.ErrAlreadyRevoked), http.StatusBadRequest, "InvalidStatus.AlreadyRevoked", false},
		{"domain/invalid names the parameter", live, fmt.Errorf("ca: %w: bad", certs.ErrInvalid), http.StatusBadRequest, "InvalidParameter", false},
		{"domain/ca not found", live, &certs.NotFoundError{Resource: certs.ResourceCA, ID: "00"}, http.StatusNotFound, "NotFound.CA", false},
		{"domain/storage", live, fmt.Errorf("db: %w", certs.ErrStorage), http.StatusServiceUnavailable, "ServiceUnavailable.StorageWriteFailed", false},
		{"fallback/unexpected", live, errors.New("ca: boom"), http.StatusInternalServerError, "InternalError", true},
		{"fallback/corrupt", live, fmt.Errorf("db: %w", certs.ErrCorrupt), http.StatusInternalServerError, "InternalError", true},
		{"fallback/client closed", closed, errors.New("ca: context canceled"), 499, "ClientClosedRequest", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			ae := s.fail(tt.c, "issue", "ParentIdentifier", tt.err)
			if ae == nil || ae.Status != tt.wantStatus || ae.Code != tt.wantCode {
				t.Fatalf("fail = %+v, want %d %s", ae, tt.wantStatus, tt.wantCode)
			}
			if tt.wantCode == "InvalidParameter" && !strings.Contains(ae.Message, `"ParentIdentifier"`) {
				t.Errorf("message %q does not name the parameter", ae.Message)
			}
			logged := strings.Contains(logs.String(), "level=ERROR") && strings.Contains(logs.String(), "api: issue")
			if logged != tt.wantLog {
				t.Errorf("error logged = %v, want %v: %s", logged, tt.wantLog, logs.String())
			}
		})
	}
}
