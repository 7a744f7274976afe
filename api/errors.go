package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"syscall"

	"github.com/certstatus/certstatus/certs"
)

// Error is an API failure in Alibaba's shape: an HTTP status, a Code the
// SDKs expose (tea.SDKError.Code) and a Message.
type Error struct {
	Status  int
	Code    string
	Message string
	// Denied is set on RAM denials and becomes AccessDeniedDetail.
	Denied *AccessDeniedDetail
	// Header holds extra response headers (x-ratelimit-user-api).
	Header map[string]string
	// notice, when set, is the message the failure is logged with at
	// info, with attrs: a failed signature, a denial, throttling: what an
	// operator looks for. Other client errors are logged at debug.
	notice string
	attrs  []any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// AccessDeniedDetail is the object Alibaba adds to RAM denials.
type AccessDeniedDetail struct {
	AuthAction               string `json:"AuthAction"`
	AuthPrincipalType        string `json:"AuthPrincipalType"`
	AuthPrincipalDisplayName string `json:"AuthPrincipalDisplayName"`
	AuthPrincipalOwnerId     string `json:"AuthPrincipalOwnerId"`
	NoPermissionType         string `json:"NoPermissionType"`
	PolicyType               string `json:"PolicyType"`
	EncodedDiagnosticMessage string `json:"EncodedDiagnosticMessage"`
}

func newError(status int, code, format string, a ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, a...)}
}

// Errors of the common (gateway) kind, alibaba-api.md §3.2.
func errMissing(name string) *Error {
	return newError(http.StatusBadRequest, "MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

func errInvalid(name, format string, a ...any) *Error {
	return newError(http.StatusBadRequest, "InvalidParameter", "The specified parameter %q is not valid: %s", name, fmt.Sprintf(format, a...))
}

// errClientClosed is the outcome of a request whose client went away
// before the answer (its context was cancelled): counted apart from server
// faults, and written to no one. 499 is nginx's code for it.
func errClientClosed() *Error {
	return newError(499, "ClientClosedRequest", "The client closed the connection before the answer.")
}

func errInternal() *Error {
	return newError(http.StatusInternalServerError, "InternalError", "The request processing has failed due to some unknown error.")
}

// errStorage answers a write the store could not make durable (disk full,
// I/O error, damaged file): 503, a code the caller can act on (retry
// later), and the cause as the operating system names it, never a path.
func errStorage(err error) *Error {
	cause := "the database file could not be written"
	var errno syscall.Errno
	if errors.As(err, &errno) {
		cause = errno.Error()
	}
	return newError(http.StatusServiceUnavailable, "ServiceUnavailable.StorageWriteFailed",
		"The request has failed due to a temporary failure of the server: the certificate store could not be written (%s). Nothing was changed; retry when the operator has repaired the storage.", cause)
}

// domainError maps an error from the store or the CA to its API error, the
// one place where certs sentinels become codes. param names the request
// parameter the error is about, when there is one.
func domainError(err error, param string) *Error {
	var (
		ae *Error
		nf *certs.NotFoundError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, certs.ErrCorrupt):
		return nil // InternalError, logged with the key the error names
	case errors.Is(err, certs.ErrStorage):
		return errStorage(err)
	case errors.Is(err, certs.ErrBadCSR):
		return errInvalid("Csr", "%s", publicMessage(err))
	case errors.Is(err, certs.ErrInvalid):
		if param == "" {
			param = "request"
		}
		return errInvalid(param, "%s", publicMessage(err))
	case errors.As(err, &nf) && nf.Resource == certs.ResourceCA:
		return errCANotFound(certs.Identifier(nf.ID))
	case errors.As(err, &nf):
		return errCertNotFound(certs.Identifier(nf.ID))
	case errors.Is(err, certs.ErrNotFound):
		return newError(http.StatusNotFound, "NotFound.Resource", "%s", publicMessage(err))
	case errors.Is(err, certs.ErrAlreadyRevoked):
		return newError(http.StatusBadRequest, "InvalidStatus.AlreadyRevoked", "%s", publicMessage(err))
	case errors.Is(err, certs.ErrNotRevoked):
		return newError(http.StatusBadRequest, "InvalidStatus.NotRevoked", "%s", publicMessage(err))
	case errors.Is(err, certs.ErrIssuerUnusable):
		return newError(http.StatusBadRequest, "InvalidStatus.CA", "%s", publicMessage(err))
	case errors.Is(err, certs.ErrExists):
		// The store's message names the record that holds the identifier,
		// serial or CustomIdentifier: another caller's, so not repeated.
		return newError(http.StatusConflict, "Duplicate", "The record already exists: its identifier, serial number or CustomIdentifier is taken.")
	}
	return nil
}

// fail is the one answer of a handler to an error from the store or the
// CA: the API error domainError maps it to, else s.internal's (logged;
// InternalError, StorageWriteFailed or, when the client went away,
// ClientClosedRequest). what names the operation in the log; param is the
// request parameter a validation error is about.
func (s *Server) fail(c *call, what, param string, err error) *Error {
	if ae := domainError(err, param); ae != nil {
		return ae
	}
	return s.internal(c, what, err)
}

// errCertNotFound and errCANotFound are the one answer of every action to
// a certificate or CA identifier nothing is stored under.
func errCertNotFound(id certs.Identifier) *Error {
	return newError(http.StatusNotFound, "NotFound.Certificate", "No certificate has the identifier %s.", id)
}

func errCANotFound(id certs.Identifier) *Error {
	return newError(http.StatusNotFound, "NotFound.CA", "No CA certificate has the identifier %s.", id)
}

// newErrorNotFoundResource answers an identifier that may name a
// certificate or a CA (ResourceType instance, TagResources) when it names
// neither.
func newErrorNotFoundResource(id certs.Identifier) *Error {
	return newError(http.StatusNotFound, "NotFound.Resource", "No certificate or CA has the identifier %s.", id)
}

// internalPrefix matches the package prefixes our errors carry ("db: ",
// "certs: " …) where a message or a wrapped part of it starts.
var internalPrefix = regexp.MustCompile(`(^|: |\()(?:db|ca|certs|keyseal|api): `)

// publicMessage is err's text without the package prefixes that name our
// internals: a caller reads "invalid validity: …", not "db: certs: …".
func publicMessage(err error) string {
	msg := err.Error()
	for {
		out := internalPrefix.ReplaceAllString(msg, "$1")
		if out == msg {
			return out
		}
		msg = out
	}
}

// recommend is the hint sent in the Recommend field for code.
func recommend(code string) string {
	switch code {
	case "SignatureDoesNotMatch":
		return "Compare the server string to sign in Message with your client's; check the AccessKeySecret."
	case "InvalidTimeStamp.Expired":
		return "Synchronise the client clock with the server's (NTP): the timestamp is outside the accepted window."
	case "Throttling.User":
		return "Retry after the time in the x-ratelimit-user-api header (TimeLeft, milliseconds)."
	case "NoPermission":
		return "Ask an administrator to allow this action in the AccessKey's policy (certstatus accesskey)."
	case "ServiceUnavailable.StorageWriteFailed":
		return "Retry later: the service cannot write to its storage (for example, the disk is full); its operator is alerted by /readyz and certstatus_db_write_failures_total."
	case "InvalidAction.NotFound":
		return "See docs/ALIBABA.md in certstatus for the supported actions."
	}
	return "See docs/ALIBABA.md in certstatus (the Alibaba Cloud API)."
}
