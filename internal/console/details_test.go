package console

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestAuditDetailsAreKeyValuePairsInWrittenOrder(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []detailItem
	}{
		{``, nil},
		{`{}`, nil},
		{`{"nextcloudUserId":"carol","clientId":"nextcloud"}`, []detailItem{{"nextcloudUserId", "carol"}, {"clientId", "nextcloud"}}},
		{`{"count":3,"ok":true,"gone":null,"ratio":0.5}`, []detailItem{{"count", "3"}, {"ok", "true"}, {"gone", "—"}, {"ratio", "0.5"}}},
		{`{"groups":[ "staff", "ops" ],"policy":{"mode":"open","ttl":{"days":14}},"empty":{},"n":[1,true]}`,
			[]detailItem{{"groups", "staff, ops"}, {"policy.mode", "open"}, {"policy.ttl.days", "14"}, {"empty", "{}"}, {"n", "1, true"}}},
		{`{"rows":[{"a":1}],"mixed":["x",null],"campaignId":""}`, []detailItem{{"rows", `[{"a":1}]`}, {"mixed", `["x",null]`}, {"campaignId", "—"}}},
		{`{"note":"line\nnext \"quoted\" \u00e9"}`, []detailItem{{"note", "line\nnext \"quoted\" é"}}},
		// Not one JSON object: shown as it is, in one row.
		{`plain text`, []detailItem{{"", "plain text"}}},
		{`["a"]`, []detailItem{{"", `["a"]`}}},
		{`{"a":1} {"b":2}`, []detailItem{{"", `{"a":1} {"b":2}`}}},
		{`{"a":`, []detailItem{{"", `{"a":`}}},
	} {
		if got := auditDetails(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("auditDetails(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

// The audit table shows details as a <dl> of key/value pairs, escaped:
// detail values come from admins and users (notes, names) and must never
// become markup.
func TestAuditTableRendersEscapedKeyValueList(t *testing.T) {
	h := &Handler{base: "/admin", issuer: "https://id.example"}
	pages, err := loadPages(h.funcs())
	if err != nil {
		t.Fatal(err)
	}
	entries := []store.AuditEntry{{
		At: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Actor: "admin:Qabc", Action: "allowlist.add", Subject: "Qxyz",
		Detail: `{"note":"<script>alert(1)</script>","<b>key</b>":"x & y","nextcloudUserId":"carol"}`,
	}}
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, "audit-table", entries); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`<dl class="kv">`,
		`<dt>note</dt><dd>&lt;script&gt;alert(1)&lt;/script&gt;</dd>`,
		`<dt>&lt;b&gt;key&lt;/b&gt;</dt><dd>x &amp; y</dd>`,
		`<dt>nextcloudUserId</dt><dd>carol</dd>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("audit table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "<script>") || strings.Contains(out, `{&#34;note`) || strings.Contains(out, `{"note"`) {
		t.Errorf("raw JSON or unescaped markup in the audit table:\n%s", out)
	}
	// Tables scroll inside their card, as a focusable region for keyboards.
	if !strings.Contains(out, `<div class="table-scroll" tabindex="0" role="region" aria-label="Audit entries">`) {
		t.Errorf("audit table is not wrapped in a scroll region:\n%s", out)
	}
}
