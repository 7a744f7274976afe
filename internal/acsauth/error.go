package acsauth

import (
	"fmt"
	"net/http"
	"strings"
)

// Alibaba Cloud gateway error codes produced by this package (alibaba-api.md
// §3.2). All of them are HTTP 400.
const (
	codeIncompleteSignature = "IncompleteSignature"
	codeTimeStampFormat     = "InvalidTimeStamp.Format"
	codeTimeStampExpired    = "InvalidTimeStamp.Expired"
)

// Standard first sentences of the gateway messages, as the real service
// words them (alibaba-api.md §3.2).
const (
	msgIncompleteSignature = "The request signature does not conform to Aliyun standards."
	msgTimeStampFormat     = "Specified time stamp or date value is not well formatted."
	msgTimeStampExpired    = "Specified time stamp or date value is expired."
)

// Error is a verification failure carrying the Alibaba Cloud error code and
// HTTP status to answer with. Message is meant for the client: it starts
// with the gateway's standard sentence for Code and adds a detail, and it
// never contains secrets.
type Error struct {
	// Code is the Alibaba error code, e.g. "IncompleteSignature".
	Code string
	// Status is the HTTP status code, 400 for every code of this package.
	Status int
	// Message is the human-readable message for the JSON error body.
	Message string
}

// Error returns "acsauth: <Code>: <Message>" without trailing punctuation.
func (e *Error) Error() string {
	return "acsauth: " + e.Code + ": " + strings.TrimSuffix(e.Message, ".")
}

// newError builds a 400 *Error whose message is the standard sentence
// followed by a formatted detail.
func newError(code, standard, format string, args ...any) *Error {
	msg := standard
	if format != "" {
		msg += " " + fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, Status: http.StatusBadRequest, Message: msg}
}

func incompleteSignature(format string, args ...any) *Error {
	return newError(codeIncompleteSignature, msgIncompleteSignature, format, args...)
}
