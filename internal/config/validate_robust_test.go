package config

import (
	"strings"
	"testing"
)

// Problems the Nextcloud client or Nextcloud itself would only report later
// (and without the key) are caught at load time, naming the key, and a
// password in the URL is not echoed back.
func TestValidateNextcloudURLAndDefaultGroups(t *testing.T) {
	for _, c := range []struct {
		env    map[string]string
		key    string
		noEcho string
	}{
		{map[string]string{"QORTAL_OIDC_NEXTCLOUD_URL": "https://svc:hunter2-secret@cloud.example.org"}, "nextcloud.url", "hunter2-secret"},
		{map[string]string{"QORTAL_OIDC_NEXTCLOUD_URL": "https://cloud.example.org/?x=1"}, "nextcloud.url", ""},
		{map[string]string{"QORTAL_OIDC_NEXTCLOUD_URL": "ftp://svc:hunter2-secret@cloud.example.org"}, "nextcloud.url", "hunter2-secret"},
		{map[string]string{"QORTAL_OIDC_PROVISION_DEFAULT_GROUPS": "staff,a/b"}, "provision.default_groups[1]", ""},
		{map[string]string{"QORTAL_OIDC_PROVISION_DEFAULT_GROUPS": "staff," + strings.Repeat("g", 65)}, "provision.default_groups[1]", ""},
	} {
		env := map[string]string{"QORTAL_OIDC_NEXTCLOUD_USER": "svc", "QORTAL_OIDC_NEXTCLOUD_APP_PASSWORD": "app-password"}
		for k, v := range c.env {
			env[k] = v
		}
		_, err := Load("", envMap(env))
		if err == nil || !strings.Contains(err.Error(), c.key+":") {
			t.Errorf("%v: error %v, want one naming %s", c.env, err, c.key)
			continue
		}
		if c.noEcho != "" && strings.Contains(err.Error(), c.noEcho) {
			t.Errorf("%v: error echoes the password: %v", c.env, err)
		}
	}
}
