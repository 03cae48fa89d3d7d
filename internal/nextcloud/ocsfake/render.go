package ocsfake

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
)

// OCS status codes with a meaning across controllers (OCSController constants).
const (
	codeServerError  = 996
	codeUnauthorised = 997
	codeNotFound     = 998
	codeUnknownError = 999
)

// reply is what a controller produced: the DataResponse status (an OCS or
// HTTP code), the status message and the data.
type reply struct {
	status  int
	message string
	data    any
}

func ok(data any) reply { return reply{status: http.StatusOK, data: data} }

func fail(code int, message string) reply { return reply{status: code, message: message} }

// v2HTTPStatus mirrors V2Response::getStatus.
func v2HTTPStatus(status int) int {
	switch {
	case status == codeUnauthorised:
		return http.StatusUnauthorized
	case status == codeNotFound:
		return http.StatusNotFound
	case status == codeServerError || status == codeUnknownError:
		return http.StatusInternalServerError
	case status < 200 || status > 600:
		return http.StatusBadRequest
	}
	return status
}

// v1HTTPStatus mirrors V1Response::getStatus: everything is 200 except 997.
func v1HTTPStatus(status int) int {
	if status == codeUnauthorised {
		return http.StatusUnauthorized
	}
	return http.StatusOK
}

// meta mirrors V1Response::render / V2Response::render.
func meta(version, status int, message string) (httpStatus int, m map[string]any) {
	if version == 1 {
		code := status
		if code == http.StatusOK {
			code = 100
		}
		okay := code == 100
		m = map[string]any{"status": "failure", "statuscode": code, "message": message,
			"totalitems": "", "itemsperpage": ""}
		if okay {
			m["status"], m["message"] = "ok", "OK"
		}
		return v1HTTPStatus(status), m
	}
	okay := status >= 200 && status < 300
	m = map[string]any{"status": "failure", "statuscode": status, "message": message}
	if okay {
		m["status"], m["message"] = "ok", "OK"
	}
	return v2HTTPStatus(status), m
}

// writeOCS renders rep as an OCS document in the requested format.
func writeOCS(w http.ResponseWriter, version int, asJSON bool, rep reply) {
	writeOCSStatus(w, version, asJSON, rep, 0)
}

// writeOCSStatus is writeOCS with the HTTP status forced (when not 0).
func writeOCSStatus(w http.ResponseWriter, version int, asJSON bool, rep reply, forceHTTP int) {
	httpStatus, m := meta(version, rep.status, rep.message)
	if forceHTTP != 0 {
		httpStatus = forceHTTP
	}
	data := rep.data
	if data == nil {
		// PHP renders an empty DataResponse's data as [] (a JSON array).
		data = []any{}
	}
	if _, isNull := data.(nullData); isNull {
		data = nil
	}
	doc := map[string]any{"ocs": map[string]any{"meta": m, "data": data}}
	if asJSON {
		body, err := json.Marshal(doc)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(httpStatus)
		_, _ = w.Write(body)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(httpStatus)
	_, _ = w.Write(renderXML(doc))
}

// renderXML mirrors BaseResponse::toXML closely enough: numeric keys become
// <element>, nulls empty elements.
func renderXML(doc map[string]any) []byte {
	var buf bytes.Buffer
	buf.WriteString("<?xml version=\"1.0\"?>\n")
	writeXMLValue(&buf, doc)
	return buf.Bytes()
}

func writeXMLValue(buf *bytes.Buffer, v any) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			writeXMLElement(buf, k, t[k])
		}
	case []any:
		for _, e := range t {
			writeXMLElement(buf, "element", e)
		}
	case []string:
		for _, e := range t {
			writeXMLElement(buf, "element", e)
		}
	}
}

func writeXMLElement(buf *bytes.Buffer, name string, v any) {
	switch t := v.(type) {
	case nil:
		fmt.Fprintf(buf, "<%s/>", name)
	case map[string]any, []any, []string:
		fmt.Fprintf(buf, "<%s>", name)
		writeXMLValue(buf, t)
		fmt.Fprintf(buf, "</%s>", name)
	default:
		fmt.Fprintf(buf, "<%s>", name)
		_ = xml.EscapeText(buf, []byte(scalar(t)))
		fmt.Fprintf(buf, "</%s>", name)
	}
}

func scalar(v any) string {
	switch t := v.(type) {
	case bool:
		if t {
			return "1"
		}
		return ""
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case string:
		return t
	}
	return fmt.Sprint(v)
}
