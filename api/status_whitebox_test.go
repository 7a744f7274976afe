package api

import (
	"encoding/json"
	"testing"
)

// statusList encodes exactly as encoding/json encodes []statusEntry.
func TestStatusList_MarshalJSON(t *testing.T) {
	for _, l := range []statusList{
		nil,
		{},
		{{Identifier: "0123456789abcdef0123456789abcdef", SerialNumber: "7f", Status: "good"}},
		{{SerialNumber: "-1a", Status: "revoked", RevokeTime: 1732761600123}, {SerialNumber: "", Status: "unknown"}},
		{{Identifier: `quote" back\ <tag> & é \u0001` + "\x01\xff", SerialNumber: "x y", Status: "unknown", RevokeTime: -5}},
	} {
		got, err := json.Marshal(map[string]any{"CertificateStatus": l})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(map[string]any{"CertificateStatus": []statusEntry(l)})
		if string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

// marshalResp encodes success bodies exactly as encoding/json does.
func TestMarshalResp(t *testing.T) {
	for _, r := range []resp{
		{},
		{"RequestId": "x<y>&z", "CertificateStatus": statusList{{SerialNumber: "7f", Status: "good"}}, "Aa": []int{1}, "b": nil, "Z\u2028": map[string]any{"n": 1.5}},
		{"CertificateStatus": statusList(nil), "TotalCount": 3},
	} {
		got, err := marshalResp(r)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(map[string]any(r))
		if string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
	if _, err := marshalResp(resp{"bad": func() {}}); err == nil {
		t.Error("an unencodable value encoded")
	}
}
