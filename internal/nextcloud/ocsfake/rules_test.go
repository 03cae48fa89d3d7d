package ocsfake

import "testing"

func TestComputerFileSize(t *testing.T) {
	cases := map[string]float64{"5 GB": 5 << 30, "5gb": 5 << 30, "1024": 1024, "3k": 3072, "5 XB": 5, "1.5 MB": 1572864, "5 GiB": 5}
	for in, want := range cases {
		if got, ok := computerFileSize(in); !ok || got != want {
			t.Errorf("%q = %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"lots", "5 gigs"} {
		if _, ok := computerFileSize(in); ok {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestHumanFileSize(t *testing.T) {
	cases := map[float64]string{512: "512 B", 2048: "2 KB", 5 << 30: "5 GB", 1572864: "1.5 MB"}
	for in, want := range cases {
		if got := humanFileSize(in); got != want {
			t.Errorf("%v = %q want %q", in, got, want)
		}
	}
}

func TestValidateUserID(t *testing.T) {
	for _, id := range []string{"alice", "a b", "x@y.z", "o'neil"} {
		if _, ok := validateUserID(id); !ok {
			t.Errorf("%q rejected", id)
		}
	}
	for _, id := range []string{"", " a", "a ", ".", "..", "a,b", "a/b", "audit.log"} {
		if _, ok := validateUserID(id); ok {
			t.Errorf("%q accepted", id)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	for pw, ok := range map[string]bool{"Str0ng!Passw0rd": true, "short1!A": false, "nouppercase1!": false, "NoDigits!!!!": false, "NoSpecial123": false} {
		if _, got := passwordPolicyHint(pw); got != ok {
			t.Errorf("%q: %v", pw, got)
		}
	}
}
