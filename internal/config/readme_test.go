package config

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// configKeys lists every key the YAML file accepts, as the README writes
// them: dotted paths, "[]" for lists of objects (whose fields the table
// describes in words).
func configKeys(t reflect.Type, prefix string, out *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		key, ft := prefix+tag, f.Type
		switch {
		case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Duration(0)):
			configKeys(ft, key+".", out)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			*out = append(*out, key+"[]")
		default:
			*out = append(*out, key)
		}
	}
}

// readmeTableKeys lists the keys in the first column of the README's
// configuration table. Rows abbreviate siblings: `smtp.host`, `port`
// (same parent), `nextcloud.app_password` / `_file` (suffix), and
// `a` \| `b` alternatives.
func readmeTableKeys(t *testing.T) map[string]bool {
	t.Helper()
	readme := repoFile(t, "README.md")
	start := strings.Index(readme, "| key | environment |")
	if start < 0 {
		t.Fatal("README has no configuration table (| key | environment | ...)")
	}
	table := readme[start:]
	if end := strings.Index(table, "\n\n"); end >= 0 {
		table = table[:end]
	}
	out := map[string]bool{}
	tick := regexp.MustCompile("`([^`]+)`")
	for _, row := range strings.Split(table, "\n")[2:] {
		cells := strings.Split(row, " | ")
		var parent, last string
		for _, m := range tick.FindAllStringSubmatch(cells[0], -1) {
			k := m[1]
			switch {
			case strings.Contains(k, "."):
				parent = k[:strings.LastIndex(k, ".")+1]
			case strings.HasPrefix(k, "_") && last != "":
				k = last + k
			default:
				k = parent + k
			}
			out[k] = true
			last = k
		}
	}
	return out
}

// The configuration table is how operators learn what they can set: every
// key the file accepts is in it, it names no key the broker does not read,
// and every environment variable the broker reads is in it.
func TestReadmeConfigTableIsComplete(t *testing.T) {
	var keys []string
	configKeys(reflect.TypeOf(Config{}), "", &keys)
	documented := readmeTableKeys(t)
	for _, k := range keys {
		if !documented[k] {
			t.Errorf("config key %s is not in the README's configuration table", k)
		}
	}
	for k := range documented {
		if !slices.Contains(keys, k) {
			t.Errorf("the README's configuration table lists %s, which is not a config key", k)
		}
	}
	env := readmeTableEnv(t)
	for _, name := range EnvNames() {
		if !env[name] {
			t.Errorf("environment variable %s is not in the README's configuration table", name)
		}
	}
}
