package qapps

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The read-only node API an app may reach, through the bridge or the node
// proxy: names, addresses and balances, QDN search/status/properties/
// metadata/fetch. Only GET is ever forwarded, and never with the node's API
// key. Anything else (admin, peers, lists, chat, wallets, POSTs) is refused.
var nodeAllowlist = []*regexp.Regexp{
	regexp.MustCompile(`^/names/(address/[^/]+|primary/[^/]+|search|[^/]+)$`),
	regexp.MustCompile(`^/addresses/(balance/[^/]+|publickey/[^/]+|[^/]+)$`),
	regexp.MustCompile(`^/arbitrary/resources(/search)?$`),
	regexp.MustCompile(`^/arbitrary/resource/(status|properties)/[A-Z_]+/[^/]+(/[^/]+)?$`),
	regexp.MustCompile(`^/arbitrary/metadata/[A-Z_]+/[^/]+/[^/]+$`),
	regexp.MustCompile(`^/arbitrary/[A-Z_]+/[^/]+(/[^/]+)?$`),
}

// Paths the allowlist patterns would match but that are not reads.
var nodeDenied = []*regexp.Regexp{
	regexp.MustCompile(`^/addresses/(online|lastreference|rewardshares?|convert|validate|mintingaccounts?|server)(/|$)`),
	regexp.MustCompile(`^/names/(forsale|sales|sell|register|update|buy)(/|$)`),
	regexp.MustCompile(`^/arbitrary/(hosted|relaymode|search|resources/hosted|resources/cache)(/|$)`),
}

// allowedNodePath reports whether a GET of path may be forwarded.
func allowedNodePath(path string) bool {
	if strings.Contains(path, "..") || strings.Contains(path, "//") {
		return false
	}
	for _, re := range nodeDenied {
		if re.MatchString(path) {
			return false
		}
	}
	for _, re := range nodeAllowlist {
		if re.MatchString(path) {
			return true
		}
	}
	return false
}

// request is one qortalRequest as the app sent it.
type request map[string]any

func (r request) str(k string) string {
	switch v := r[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func (r request) has(k string) bool { _, ok := r[k]; return ok && r[k] != nil }

// seg escapes one path segment; a value with a slash cannot escape it.
func seg(s string) string { return url.PathEscape(s) }

// readOnlyActions are answered by a node GET, like the node's q-apps.js
// does: action -> path and query built from the request.
var readOnlyActions = map[string]func(r request) (string, url.Values, error){
	"GET_ACCOUNT_DATA":  func(r request) (string, url.Values, error) { return need(r, "/addresses/", "address") },
	"GET_ACCOUNT_NAMES": func(r request) (string, url.Values, error) { return need(r, "/names/address/", "address") },
	"GET_NAME_DATA":     func(r request) (string, url.Values, error) { return need(r, "/names/", "name") },
	"GET_BALANCE": func(r request) (string, url.Values, error) {
		p, q, err := need(r, "/addresses/balance/", "address")
		if r.has("assetId") {
			q.Set("assetId", r.str("assetId"))
		}
		return p, q, err
	},
	"SEARCH_NAMES": func(r request) (string, url.Values, error) {
		return "/names/search", pick(r, map[string]string{"query": "query", "prefix": "prefix", "limit": "limit", "offset": "offset", "reverse": "reverse"}), nil
	},
	"LIST_QDN_RESOURCES": func(r request) (string, url.Values, error) {
		return "/arbitrary/resources", pick(r, map[string]string{"service": "service", "name": "name", "identifier": "identifier",
			"default": "default", "includeStatus": "includestatus", "includeMetadata": "includemetadata", "nameListFilter": "namefilter",
			"followedOnly": "followedonly", "excludeBlocked": "excludeblocked", "limit": "limit", "offset": "offset", "reverse": "reverse"}), nil
	},
	"SEARCH_QDN_RESOURCES": func(r request) (string, url.Values, error) {
		q := pick(r, map[string]string{"service": "service", "query": "query", "identifier": "identifier", "name": "name",
			"title": "title", "description": "description", "prefix": "prefix", "exactMatchNames": "exactmatchnames",
			"default": "default", "mode": "mode", "minLevel": "minlevel", "includeStatus": "includestatus",
			"includeMetadata": "includemetadata", "nameListFilter": "namefilter", "followedOnly": "followedonly",
			"excludeBlocked": "excludeblocked", "before": "before", "after": "after", "limit": "limit", "offset": "offset", "reverse": "reverse"})
		for _, k := range []string{"names", "keywords"} {
			if list, ok := r[k].([]any); ok {
				for _, v := range list {
					if s, ok := v.(string); ok {
						q.Add(strings.TrimSuffix(k, "s"), s)
					}
				}
			}
		}
		return "/arbitrary/resources/search", q, nil
	},
	"GET_QDN_RESOURCE_STATUS": func(r request) (string, url.Values, error) {
		p, err := resourcePath(r, "/arbitrary/resource/status/", false)
		return p, pick(r, map[string]string{"build": "build"}), err
	},
	"GET_QDN_RESOURCE_PROPERTIES": func(r request) (string, url.Values, error) {
		p, err := resourcePath(r, "/arbitrary/resource/properties/", true)
		return p, url.Values{}, err
	},
	"GET_QDN_RESOURCE_METADATA": func(r request) (string, url.Values, error) {
		p, err := resourcePath(r, "/arbitrary/metadata/", true)
		return p, url.Values{}, err
	},
	"FETCH_QDN_RESOURCE": func(r request) (string, url.Values, error) {
		p, err := resourcePath(r, "/arbitrary/", false)
		return p, pick(r, map[string]string{"filepath": "filepath", "rebuild": "rebuild", "encoding": "encoding"}), err
	},
}

func need(r request, prefix, key string) (string, url.Values, error) {
	v := r.str(key)
	if v == "" {
		return "", nil, fmt.Errorf("missing %s", key)
	}
	return prefix + seg(v), url.Values{}, nil
}

func pick(r request, keys map[string]string) url.Values {
	q := url.Values{}
	for from, to := range keys {
		if r.has(from) {
			q.Set(to, r.str(from))
		}
	}
	return q
}

func resourcePath(r request, prefix string, defaultIdentifier bool) (string, error) {
	service, name := r.str("service"), r.str("name")
	if service == "" || name == "" {
		return "", fmt.Errorf("missing service or name")
	}
	p := prefix + seg(strings.ToUpper(service)) + "/" + seg(name)
	id := r.str("identifier")
	if id == "" && defaultIdentifier {
		id = "default"
	}
	if id != "" {
		p += "/" + seg(id)
	}
	return p, nil
}

// actionKind classifies an action for the bridge.
type actionKind int

const (
	kindUnknown actionKind = iota
	kindReadOnly
	kindAccount
	kindSigning
	kindResourceURL
)

func classify(action string) actionKind {
	switch {
	case action == "GET_USER_ACCOUNT":
		return kindAccount
	case action == "GET_QDN_RESOURCE_URL":
		return kindResourceURL
	case readOnlyActions[action] != nil:
		return kindReadOnly
	case slices.Contains(SigningActions, action):
		return kindSigning
	}
	return kindUnknown
}
