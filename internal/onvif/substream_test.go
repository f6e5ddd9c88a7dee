package onvif

import (
	"errors"
	"strings"
	"testing"
)

// The fake camera's Media1 has a 2560×1440 main stream and a 640×360
// substream, both H.264: the substream covers a 640-pixel model input.
func TestStreamForModelPicksTheSubstream(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass})
	ch, err := clientFor(cam, testPass).StreamForModel(testCtx(t), 640)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Profile.Token != "Profile_2" || ch.Profile.Width != 640 {
		t.Fatalf("picked %+v", ch.Profile)
	}
	if !strings.Contains(ch.URI, "profile=Profile_2") || !strings.Contains(ch.URI, "admin:") {
		t.Fatalf("uri %q", ch.URI)
	}
	if !strings.Contains(ch.Reason, "subStream") || !strings.Contains(ch.Reason, "Profile_1: H264 2560×1440") {
		t.Fatalf("reason %q", ch.Reason)
	}
}

func TestPickForModel(t *testing.T) {
	main := Profile{Token: "m", Name: "main", Encoding: "H264", Width: 1920, Height: 1080}
	sub := Profile{Token: "s", Name: "sub", Encoding: "H264", Width: 352, Height: 288}
	third := Profile{Token: "t", Name: "third", Encoding: "H264", Width: 1280, Height: 720}
	hevc := Profile{Token: "h", Name: "hevc", Encoding: "H265", Width: 640, Height: 480}
	p, _, err := PickForModel([]Profile{main, sub, third, hevc}, 640)
	if err != nil || p.Token != "t" {
		t.Fatalf("got %+v %v, want the 1280×720 third stream (the 352×288 sub is too small, H.265 unread)", p, err)
	}
	p, why, err := PickForModel([]Profile{sub, hevc}, 640)
	if err != nil || p.Token != "s" || !strings.Contains(why, "largest") {
		t.Fatalf("got %+v %q %v", p, why, err)
	}
	_, _, err = PickForModel([]Profile{hevc, {Token: "a"}}, 640)
	if !errors.Is(err, ErrNoProfile) || !strings.Contains(err.Error(), "h: H265 640×480") {
		t.Fatalf("err %v", err)
	}
}
