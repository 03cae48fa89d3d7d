package apierror

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// DefaultBodyLimit is the request body limit DecodeJSON applies when the
// caller passes 0.
const DefaultBodyLimit = 64 << 10

// DecodeJSON is the one JSON request decoder of the broker (/api and
// /login). It reads exactly one JSON object into v and answers with one rule
// everywhere:
//
//	Content-Type not application/json (or a charset other than UTF-8)  415 unsupported_media_type
//	body over limit bytes (0 means DefaultBodyLimit)                    413 body_too_large
//	not JSON, or data after the object                                  400 invalid_json
//	a field v does not have                                             400 unknown_field
//	empty body, not an object, a field of the wrong type                400 invalid_request
//
// Requiring application/json also stops cross-site form posts, which cannot
// send that type without a CORS preflight.
func DecodeJSON(r *http.Request, v any, limit int64) error {
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		// Nothing was sent: that, not the missing Content-Type, is the problem.
		return BadRequest("invalid_request", "request body is empty; expected a JSON object")
	}
	if e := checkJSONContentType(r.Header.Get("Content-Type")); e != nil {
		return e
	}
	tooLarge := New(http.StatusRequestEntityTooLarge, "body_too_large", "request body is larger than %d bytes", limit)
	if r.ContentLength > limit {
		return tooLarge // refuse without reading what the client announced
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return tooLarge
		case errors.As(err, &se):
			return BadRequest("invalid_json", "request body is not valid JSON (at byte %d)", se.Offset)
		case errors.As(err, &te) && te.Field == "":
			return BadRequest("invalid_request", "request body must be a JSON object (got %s)", te.Value)
		case errors.As(err, &te):
			return BadRequest("invalid_request", "field %q must be a %s", te.Field, jsonType(te))
		case errors.Is(err, io.EOF):
			return BadRequest("invalid_request", "request body is empty; expected a JSON object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return BadRequest("invalid_json", "request body is not valid JSON (it ends early)")
		default:
			if f, ok := unknownField(err); ok {
				return BadRequest("unknown_field", "unknown field %s", f)
			}
			// A field's own UnmarshalJSON refused it (e.g. a malformed
			// timestamp): the JSON is fine, the value is not.
			return BadRequest("invalid_request", "a field has a value of the wrong form: %s", valueErr(err))
		}
	}
	// A second Decode, not dec.More: More misses a stray closing bracket
	// such as {"a":1}}.
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge
		}
		return BadRequest("invalid_json", "request body has data after the JSON object")
	}
	return nil
}

func checkJSONContentType(header string) *Error {
	const want = "Content-Type must be application/json"
	if header == "" {
		return New(http.StatusUnsupportedMediaType, "unsupported_media_type", "%s (none was sent)", want)
	}
	mt, params, err := mime.ParseMediaType(header)
	if err != nil || mt != "application/json" {
		return New(http.StatusUnsupportedMediaType, "unsupported_media_type", "%s", want)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return New(http.StatusUnsupportedMediaType, "unsupported_media_type", "JSON bodies must be UTF-8 (charset %q is not supported)", cs)
	}
	return nil
}

// jsonType names the JSON (not Go) type a field expects.
func jsonType(te *json.UnmarshalTypeError) string {
	if te.Type == nil {
		return "value of another type"
	}
	switch te.Type.Kind().String() {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	}
	return "value of another type"
}

// unknownField recognises encoding/json's unexported unknown-field error.
func unknownField(err error) (string, bool) {
	const prefix = "json: unknown field "
	s := err.Error()
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

// valueErr is the message of a value error without Go's type names.
func valueErr(err error) string {
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%q is not an RFC 3339 timestamp", pe.Value)
	}
	return "see the API reference"
}
