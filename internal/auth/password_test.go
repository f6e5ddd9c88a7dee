package auth

import (
	"context"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fastParams keep tests quick; the PHC string carries them, so hashes made
// with them verify like any other.
var fastParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashAndVerify(t *testing.T) {
	ctx := context.Background()
	h, err := HashPassword(ctx, "correct horse battery", fastParams)
	require.NoError(t, err)
	require.Regexp(t, regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`), h)
	stale, err := VerifyPassword(ctx, "correct horse battery", h, fastParams)
	require.NoError(t, err)
	require.False(t, stale)
	_, err = VerifyPassword(ctx, "correct horse batterY", h, fastParams)
	require.ErrorIs(t, err, ErrMismatch)
	stale, err = VerifyPassword(ctx, "correct horse battery", h, Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	require.NoError(t, err)
	require.True(t, stale, "made with other parameters: re-hash")

	h2, err := HashPassword(ctx, "correct horse battery", fastParams)
	require.NoError(t, err)
	require.NotEqual(t, h, h2, "a fresh salt each time")
}

// TestVerifyReferenceVector checks interoperability with the reference
// implementation, Debian's argon2 command:
//
//	echo -n "correct horse battery" | argon2 saltsaltsaltsalt -id -t 3 -m 6 -p 1 -l 32 -e
func TestVerifyReferenceVector(t *testing.T) {
	const ref = "$argon2id$v=19$m=64,t=3,p=1$c2FsdHNhbHRzYWx0c2FsdA$s5QHXFqYFk3XUbtFLeFUYa9z8SUNdkCJSNEHrJi8TkQ"
	_, err := VerifyPassword(context.Background(), "correct horse battery", ref, fastParams)
	require.NoError(t, err)
	_, err = VerifyPassword(context.Background(), "correct horse batter", ref, fastParams)
	require.ErrorIs(t, err, ErrMismatch)
}

func TestDecodeHashRefusesHostileParameters(t *testing.T) {
	for _, h := range []string{
		"$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8", // 4 GiB
		"$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8=",  // padded
		"$argon2id$v=19$m=64,t=100,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8",
		"$argon2id$v=19$m=64,t=1,p=0$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8",
		"$argon2id$v=19$m=064,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8",
		"$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8",
		"$argon2id$v=16$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8", // 4-byte salt
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$short",
		"$argon2id$v=19$t=1,m=64,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8",
		"plain", "", strings.Repeat("$", 1000),
	} {
		_, _, _, err := DecodeHash(h)
		require.Error(t, err, h)
	}
}

func TestCheckPassword(t *testing.T) {
	require.NoError(t, CheckPassword("twelve chars"))
	require.ErrorContains(t, CheckPassword("short"), "at least 12")
	require.ErrorContains(t, CheckPassword(strings.Repeat("x", 257)), "at most 256")
	require.ErrorContains(t, CheckPassword("\xff\xfe twelve chars"), "UTF-8")
	require.NoError(t, CheckPassword("ümlautsümlauts"), "characters, not bytes")
}

// FuzzDecodeHash: any stored string either decodes within the bounds or
// is refused; it never panics.
func FuzzDecodeHash(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := DecodeHash(s)
		if err != nil {
			return
		}
		if p.Memory > maxMemory || p.Time > maxTime || p.Threads > maxThreads || p.Threads == 0 ||
			len(salt) < minSaltLen || len(key) < minKeyLen || p.KeyLen != uint32(len(key)) {
			t.Fatalf("accepted out-of-bounds hash %q: %+v", s, p)
		}
	})
}

// BenchmarkHashDefault measures one login's hashing cost with the default
// parameters (the figure quoted in DefaultParams' comment). cpu-ms/op is
// the processor time, which other work on the machine does not inflate.
func BenchmarkHashDefault(b *testing.B) {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	for b.Loop() {
		if _, err := HashPassword(context.Background(), "correct horse battery", DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpu()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
}
