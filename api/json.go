package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// writeJSON writes v as the JSON body, with no caching.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b []byte
	var err error
	if r, ok := v.(resp); ok {
		b, err = marshalResp(r)
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"Code":"InternalError","Message":"The response could not be encoded."}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// Declared, so that a large answer (a thousand statuses) is sent as it
	// is rather than chunked.
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// jsonAppender is a value that appends its own JSON encoding, which is
// trusted to be valid: encoding/json would re-scan a Marshaler's output.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// marshalResp encodes a success body as json.Marshal does (keys sorted),
// letting jsonAppender values write themselves.
func marshalResp(r resp) ([]byte, error) {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 1, 256)
	b[0] = '{'
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b = append(append(b, kb...), ':')
		if a, ok := r[k].(jsonAppender); ok {
			b = a.appendJSON(b)
			continue
		}
		vb, err := json.Marshal(r[k])
		if err != nil {
			return nil, err
		}
		b = append(b, vb...)
	}
	return append(b, '}'), nil
}
