package nextcloud

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// envelope is an OCS JSON document.
type envelope struct {
	Meta struct {
		Status     string `json:"status"`
		StatusCode int    `json:"statuscode"`
		Message    string `json:"message"`
	} `json:"meta"`
	Data json.RawMessage `json:"data"`
}

// opCodes maps an operation's own OCS failure codes to kinds; codes not
// listed fall through to commonCode.
var opCodes = map[string]map[int]error{
	opCreateUser:  {102: ErrExists, 101: ErrInvalid, 104: ErrInvalid, 108: ErrInvalid, 110: ErrInvalid, 107: ErrPolicyRejected, 105: ErrUnauthorized, 106: ErrUnauthorized},
	opEditUser:    {113: ErrPolicyRejected, 107: ErrPolicyRejected, 101: ErrInvalid, 102: ErrInvalid, 103: ErrInvalid},
	opSetEnabled:  {101: ErrNotFound},
	opAddToGroup:  {101: ErrInvalid, 102: ErrInvalid, 103: ErrNotFound, 104: ErrUnauthorized},
	opCreateGroup: {101: ErrInvalid, 102: ErrExists, 103: ErrUnexpected},
	opNotifyUser:  {400: ErrInvalid, codeNotFoundRoute: ErrUnexpected},
}

const codeNotFoundRoute = 998

// commonCode maps statuscodes shared by every controller.
func commonCode(code int) error {
	switch {
	case code == 997, code == 401, code == 403:
		return ErrUnauthorized
	case code == 998, code == 404:
		return ErrNotFound
	case code == 429:
		return ErrRateLimited
	case code == 400:
		return ErrInvalid
	}
	return ErrUnexpected
}

// interpret turns a response into an envelope or a typed error.
func (c *Client) interpret(cl call, resp *http.Response, raw []byte) (*envelope, *Error) {
	status := resp.StatusCode
	mkErr := func(kind error, ocs int, msg string) *Error {
		return &Error{Op: cl.op, Kind: kind, HTTPStatus: status, OCSStatus: ocs, Message: clean(msg, c.cfg.AppPassword, cl.secret)}
	}
	// Rate limiting and brute-force protection answer 429 with or without an
	// OCS body; never treat it as anything else.
	if status == http.StatusTooManyRequests {
		e := mkErr(ErrRateLimited, 0, "")
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
		if env, ok := decode(raw); ok {
			e.OCSStatus, e.Message = env.Meta.StatusCode, clean(env.Meta.Message, c.cfg.AppPassword, cl.secret)
		}
		return nil, e
	}
	// Maintenance mode answers 503 (OCS 503) on every call; a proxy in front
	// may answer 503 with a page of its own. Either way: come back later.
	if status == http.StatusServiceUnavailable {
		e := mkErr(ErrUnavailable, 0, "")
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
		if env, ok := decode(raw); ok {
			e.OCSStatus, e.Message = env.Meta.StatusCode, clean(env.Meta.Message, c.cfg.AppPassword, cl.secret)
		}
		return nil, e
	}
	env, ok := decode(raw)
	if !ok {
		switch {
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			// Wrong Basic credentials get an XML 997 body whatever format was asked.
			return nil, mkErr(ErrUnauthorized, 0, "credentials rejected")
		case status == http.StatusPreconditionFailed:
			return nil, mkErr(ErrUnexpected, 0, "CSRF check failed (OCS-APIRequest header not honoured): "+snippet(raw))
		}
		return nil, mkErr(ErrUnexpected, 0, "non-OCS response: "+snippet(raw))
	}
	code := env.Meta.StatusCode
	if code == c.okCode && status >= 200 && status < 300 {
		return env, nil
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return nil, mkErr(ErrUnauthorized, code, env.Meta.Message)
	}
	if status >= 500 {
		return nil, mkErr(ErrUnexpected, code, env.Meta.Message)
	}
	kind, known := opCodes[cl.op][code]
	if !known {
		kind = commonCode(code)
	}
	return nil, mkErr(kind, code, env.Meta.Message)
}

// decode accepts only a JSON object with an ocs.meta part.
func decode(raw []byte) (*envelope, bool) {
	var doc struct {
		OCS *struct {
			Meta *json.RawMessage `json:"meta"`
			Data json.RawMessage  `json:"data"`
		} `json:"ocs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.OCS == nil || doc.OCS.Meta == nil {
		return nil, false
	}
	env := &envelope{Data: doc.OCS.Data}
	var meta struct {
		Status     string          `json:"status"`
		StatusCode json.RawMessage `json:"statuscode"`
		Message    json.RawMessage `json:"message"`
	}
	if err := json.Unmarshal(*doc.OCS.Meta, &meta); err != nil {
		return nil, false
	}
	code, err := strconv.Atoi(strings.Trim(string(meta.StatusCode), `"`))
	if err != nil {
		return nil, false
	}
	env.Meta.Status, env.Meta.StatusCode = meta.Status, code
	_ = json.Unmarshal(meta.Message, &env.Meta.Message) // null or absent leaves ""
	return env, true
}

func snippet(raw []byte) string {
	s := string(raw)
	if len(s) > 120 {
		s = s[:120]
	}
	if strings.TrimSpace(s) == "" {
		return "(empty body)"
	}
	return s
}

// retryAfter parses delay-seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}
