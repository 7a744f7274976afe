package acsauth

import (
	"time"
)

// timestampLayout is the format the SDKs send in Timestamp (V1) and
// x-acs-date (V3): UTC, second precision, literal Z.
const timestampLayout = "2006-01-02T15:04:05Z"

// ParseTimestamp parses a request timestamp. It accepts the documented
// yyyy-MM-ddTHH:mm:ssZ form and, more leniently, any RFC 3339 value: with a
// numeric offset and/or fractional seconds. A bad value is an *Error with
// Code "InvalidTimeStamp.Format".
func ParseTimestamp(value string) (time.Time, error) {
	// The RFC 3339 layout covers the documented form; when parsing, Go
	// also accepts fractional seconds after the seconds field.
	t, err := time.Parse(time.RFC3339, value)
	if err != nil {
		return time.Time{}, newError(codeTimeStampFormat, msgTimeStampFormat,
			"Expected yyyy-MM-ddTHH:mm:ssZ in UTC, got %q.", clip(value))
	}
	return t, nil
}

// CheckTime parses value with ParseTimestamp and checks that it lies within
// window of now, in either direction (Alibaba uses 15 minutes). It returns
// the parsed time, also alongside an "InvalidTimeStamp.Expired" *Error when
// the time is outside the window; a bad format is an *Error with Code
// "InvalidTimeStamp.Format".
func CheckTime(value string, now time.Time, window time.Duration) (time.Time, error) {
	t, err := ParseTimestamp(value)
	if err != nil {
		return time.Time{}, err
	}
	// Sub saturates instead of overflowing, so both comparisons stay
	// correct for absurd dates.
	if d := now.Sub(t); d > window || d < -window {
		return t, newError(codeTimeStampExpired, msgTimeStampExpired,
			"The time %s is more than %s away from the server time %s.",
			t.UTC().Format(timestampLayout), window, now.UTC().Format(timestampLayout))
	}
	return t, nil
}
