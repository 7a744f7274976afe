package db_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/db/dbtest"
)

// settingsEvents returns the audit events about the settings.
func settingsEvents(t *testing.T, s *db.Store) []certs.AuditEvent {
	t.Helper()
	var out []certs.AuditEvent
	if err := s.Audit(t.Context(), 1, func(e certs.AuditEvent) bool {
		if strings.HasPrefix(e.Action, "settings.") {
			out = append(out, e)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStore_Settings_NoneStored(t *testing.T) {
	s := dbtest.New(t)
	if _, err := s.Settings(t.Context()); !errors.Is(err, certs.ErrNotFound) {
		t.Fatalf("Settings of a new store = %v, want ErrNotFound", err)
	}
}

func TestStore_UpdateSettings_CreateChangeAudit(t *testing.T) {
	s := dbtest.New(t)
	ctx := certs.WithActor(t.Context(), certs.Actor{Who: "cli:alice"})
	first := certs.DefaultSettings("http://ocsp.example/", "")
	got, err := s.UpdateSettings(ctx, func(st *certs.Settings) error {
		if *st != (certs.Settings{}) {
			t.Errorf("fn got %+v before anything was stored, want the zero Settings", *st)
		}
		*st = first
		return nil
	})
	if err != nil || got != first {
		t.Fatalf("UpdateSettings = %+v, %v; want %+v", got, err, first)
	}
	if back, err := s.Settings(ctx); err != nil || back != first {
		t.Fatalf("Settings = %+v, %v; want %+v", back, err, first)
	}

	// The same values again: nothing written, nothing audited.
	if _, err := s.UpdateSettings(ctx, func(st *certs.Settings) error { return nil }); err != nil {
		t.Fatal(err)
	}
	next := first
	next.OCSPURL, next.OCSPValidity = "https://status.example/ocsp", 48*time.Hour
	if got, err = s.UpdateSettings(ctx, func(st *certs.Settings) error {
		if *st != first {
			t.Errorf("fn got %+v, want the stored %+v", *st, first)
		}
		*st = next
		return nil
	}); err != nil || got != next {
		t.Fatalf("UpdateSettings = %+v, %v; want %+v", got, err, next)
	}

	ev := settingsEvents(t, s)
	if len(ev) != 2 {
		t.Fatalf("%d settings events, want 2 (create, update): %+v", len(ev), ev)
	}
	if ev[0].Action != "settings.create" || !strings.Contains(ev[0].Details, `ocsp_url="http://ocsp.example/"`) || !strings.Contains(ev[0].Details, `ocsp_responder_id="byKey"`) {
		t.Errorf("create event %+v", ev[0])
	}
	want := `ocsp_url "http://ocsp.example/"→"https://status.example/ocsp" ocsp_validity "24h"→"48h"`
	if ev[1].Action != "settings.update" || ev[1].Details != want || ev[1].Actor != "cli:alice" || ev[1].Subject != "settings" {
		t.Errorf("update event %+v, want details %q by cli:alice", ev[1], want)
	}
}

func TestStore_UpdateSettings_Refused(t *testing.T) {
	s := dbtest.New(t)
	ctx := t.Context()
	first := certs.DefaultSettings("http://ocsp.example/", "")
	if _, err := s.UpdateSettings(ctx, func(st *certs.Settings) error { *st = first; return nil }); err != nil {
		t.Fatal(err)
	}
	_, err := s.UpdateSettings(ctx, func(st *certs.Settings) error { st.OCSPResponderValidity = time.Hour; return nil })
	var se *certs.SettingError
	if !errors.As(err, &se) || se.Field != certs.FieldOCSPResponderValidity {
		t.Fatalf("invalid update = %v, want a SettingError naming %s", err, certs.FieldOCSPResponderValidity)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateSettings(ctx, func(st *certs.Settings) error { st.OCSPURL = "http://other/"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn's error: %v", err)
	}
	if back, err := s.Settings(ctx); err != nil || back != first {
		t.Errorf("after refused updates Settings = %+v, %v; want %+v unchanged", back, err, first)
	}
	if ev := settingsEvents(t, s); len(ev) != 1 {
		t.Errorf("%d settings events, want only the create", len(ev))
	}
}
