package acsauth_test

import (
	"testing"
	"time"

	"github.com/certstatus/certstatus/internal/acsauth"
)

func TestCheckTime(t *testing.T) {
	now := time.Date(2026, 11, 27, 23, 16, 51, 0, time.UTC)
	const window = 15 * time.Minute
	tests := []struct {
		name     string
		value    string
		want     time.Time
		wantCode string // "" means no error
	}{
		{"ok/now", "2026-11-27T23:16:51Z", now, ""},
		{"ok/14m59s past", "2026-11-27T23:01:52Z", now.Add(-14*time.Minute - 59*time.Second), ""},
		{"ok/14m59s future", "2026-11-27T23:31:50Z", now.Add(14*time.Minute + 59*time.Second), ""},
		{"ok/exactly 15m past", "2026-11-27T23:01:51Z", now.Add(-window), ""},
		{"ok/exactly 15m future", "2026-11-27T23:31:51Z", now.Add(window), ""},
		{"ok/rfc 3339 offset", "2026-11-28T07:16:51+08:00", now, ""},
		{"ok/fractional seconds", "2026-11-27T23:16:51.250Z", now.Add(250 * time.Millisecond), ""},
		{"ok/fractional seconds and offset", "2026-11-27T18:16:51.5-05:00", now.Add(500 * time.Millisecond), ""},
		{"expired/15m1s past", "2026-11-27T23:01:50Z", time.Time{}, "InvalidTimeStamp.Expired"},
		{"expired/15m1s future", "2026-11-27T23:31:52Z", time.Time{}, "InvalidTimeStamp.Expired"},
		{"expired/year 1", "0001-01-01T00:00:00Z", time.Time{}, "InvalidTimeStamp.Expired"},
		{"expired/year 9999", "9999-12-31T23:59:59Z", time.Time{}, "InvalidTimeStamp.Expired"},
		{"format/garbage", "yesterday", time.Time{}, "InvalidTimeStamp.Format"},
		{"format/empty", "", time.Time{}, "InvalidTimeStamp.Format"},
		{"format/date only", "2026-11-27", time.Time{}, "InvalidTimeStamp.Format"},
		{"format/space instead of T", "2026-11-27 23:16:51Z", time.Time{}, "InvalidTimeStamp.Format"},
		{"format/no zone", "2026-11-27T23:16:51", time.Time{}, "InvalidTimeStamp.Format"},
		{"format/unix seconds", "1795820211", time.Time{}, "InvalidTimeStamp.Format"},
		{"format/http date", "Fri, 27 Nov 2026 23:16:51 GMT", time.Time{}, "InvalidTimeStamp.Format"},
		{"format/month 13", "2026-13-27T23:16:51Z", time.Time{}, "InvalidTimeStamp.Format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := acsauth.CheckTime(tt.value, now, window)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("got error %v, want nil", err)
				}
				if !got.Equal(tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
				return
			}
			checkError(t, err, tt.wantCode, "")
		})
	}
}

func TestParseTimestamp_ReturnsFormatError(t *testing.T) {
	_, err := acsauth.ParseTimestamp("2026-11-27T23:16:51")
	checkError(t, err, "InvalidTimeStamp.Format", `"2026-11-27T23:16:51"`)
}
