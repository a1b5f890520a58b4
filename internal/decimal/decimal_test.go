package decimal

import (
	"encoding/json"
	"math/big"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"0", "0.00000001", "89287.17000000", "-25.06", "136.421", "123456789012345678901234.5678",
		"-0.000000000000000000000001", "9223372036854775807", "0.99173000", "1000",
	} {
		d, err := Parse(s)
		require.NoError(t, err, s)
		require.Equal(t, s, d.String())
	}
}

func TestParseExponent(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"1.5E-7": "0.00000015", "1E+3": "1000", "2.50e1": "25.0", "-3e0": "-3"} {
		d, err := Parse(in)
		require.NoError(t, err, in)
		require.Equal(t, want, d.String(), in)
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "-", "+1", ".5", "5.", "NaN", "Inf", "1..2", "1e", "1e99999", "0x10", " 1", "1 ", "1,5", "１"} {
		_, err := Parse(s)
		require.ErrorIs(t, err, ErrSyntax, "%q", s)
	}
}

func TestCmp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"1.50", "1.5", 0},
		{"1.5", "1.49999999", 1},
		{"-1", "0", -1},
		{"0.00000001", "0", 1},
		{"123456789012345678901234.5", "123456789012345678901234.50", 0},
		{"9223372036854775807", "922337203685477580.8", 1},
		{"100000000000000000", "0.000000000000000000001", 1},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, MustParse(tt.a).Cmp(MustParse(tt.b)), "%s vs %s", tt.a, tt.b)
		require.Equal(t, -tt.want, MustParse(tt.b).Cmp(MustParse(tt.a)), "%s vs %s", tt.b, tt.a)
	}
	require.False(t, MustParse("1.50").Identical(MustParse("1.5")))
	require.True(t, MustParse("1.50").Identical(MustParse("1.50")))
}

func TestJSON(t *testing.T) {
	t.Parallel()
	var v struct {
		A Decimal `json:"a"`
		B Decimal `json:"b"`
		C Null    `json:"c"`
		D Null    `json:"d"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"a":"89287.17000000","b":0.99173000,"c":null,"d":"1.0"}`), &v))
	require.Equal(t, "89287.17000000", v.A.String())
	require.Equal(t, "0.99173000", v.B.String())
	require.False(t, v.C.Valid)
	require.True(t, v.D.Valid)
	require.Error(t, json.Unmarshal([]byte(`{"a":true}`), &v))
	require.Error(t, json.Unmarshal([]byte(`{"a":null}`), &v))
	require.Error(t, json.Unmarshal([]byte(`{"a":"1\u0030"}`), &v))
	out, err := json.Marshal(v.A)
	require.NoError(t, err)
	require.JSONEq(t, `"89287.17000000"`, string(out))
}

func TestNumericRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0.00000001", "89287.17000000", "-1", "123456789012345678901234.5678"} {
		n, err := MustParse(s).NumericValue()
		require.NoError(t, err)
		var back Decimal
		require.NoError(t, back.ScanNumeric(n))
		require.Equal(t, s, back.String())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "1.5E-7", "-89287.17000000", "123456789012345678901234.5678", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(d.String())
		if err != nil {
			t.Fatalf("reparse %q (from %q): %v", d.String(), s, err)
		}
		if !back.Identical(d) {
			t.Fatalf("round trip %q -> %q -> %q", s, d.String(), back.String())
		}
		if d.Cmp(back) != 0 {
			t.Fatalf("cmp after round trip")
		}
	})
}

// Not parallel: AllocsPerRun refuses to run beside other tests.
func TestParseBytesNoAllocs(t *testing.T) { //nolint:paralleltest // AllocsPerRun
	text := []byte("89287.17000000")
	var d Decimal
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if d, err = ParseBytes(text); err != nil {
			panic(err)
		}
	})
	require.Zero(t, allocs)
	require.Equal(t, "89287.17000000", d.String())
}

func TestParseInt64Edges(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
		"18446744073709551615", "18446744073709551616", "0.9223372036854775807", "00000000000000000000001", "92233720368547758e2",
	} {
		got, ok := parse(s)
		want, wantOK := parseReference(s)
		require.Equal(t, wantOK, ok, s)
		require.True(t, got.Identical(want), s)
		require.Equal(t, want.big == nil, got.big == nil, "%s: one representation per value", s)
	}
}

// FuzzParseReference checks the one-pass parser against the plain one it
// replaced: same acceptance, same value and scale, same representation.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"0", "1.5E-7", "-89287.17000000", "123456789012345678901234.5678", ".5", "1e+9999", "-9223372036854775808", "7E18"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parse([]byte(s))
		want, wantOK := parseReference(s)
		if ok != wantOK {
			t.Fatalf("%q: accepted %v, reference %v", s, ok, wantOK)
		}
		if ok && (!got.Identical(want) || (got.big == nil) != (want.big == nil)) {
			t.Fatalf("%q: %s (big %v), reference %s (big %v)", s, got, got.big != nil, want, want.big != nil)
		}
	})
}

// parseReference is the parser before the one-pass rewrite (string
// concatenation, strconv and big.Int), kept as the fuzz oracle.
func parseReference(s string) (Decimal, bool) {
	i, n := 0, len(s)
	neg := false
	if i < n && s[i] == '-' {
		neg = true
		i++
	}
	intStart := i
	for i < n && isDigit(s[i]) {
		i++
	}
	intDigits := s[intStart:i]
	if len(intDigits) == 0 {
		return Decimal{}, false
	}
	var fracDigits string
	if i < n && s[i] == '.' {
		i++
		fs := i
		for i < n && isDigit(s[i]) {
			i++
		}
		fracDigits = s[fs:i]
		if len(fracDigits) == 0 {
			return Decimal{}, false
		}
	}
	exp := 0
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		es := i
		if i < n && (s[i] == '-' || s[i] == '+') {
			i++
		}
		ds := i
		for i < n && isDigit(s[i]) {
			i++
		}
		if i == ds || i-ds > 4 {
			return Decimal{}, false
		}
		e, err := strconv.Atoi(s[es:i])
		if err != nil {
			return Decimal{}, false
		}
		exp = e
	}
	if i != n {
		return Decimal{}, false
	}
	scale := len(fracDigits) - exp
	digits := intDigits + fracDigits
	if scale < 0 {
		// A positive exponent beyond the fraction: append zeros to the coefficient.
		if len(digits)-scale > maxDigits {
			return Decimal{}, false
		}
		for ; scale < 0; scale++ {
			digits += "0"
		}
	}
	if scale > maxScale || len(digits) > maxDigits {
		return Decimal{}, false
	}
	d := Decimal{scale: int32(scale)}
	if len(digits) <= 18 {
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return Decimal{}, false
		}
		if neg {
			v = -v
		}
		d.small = v
		return d, true
	}
	b, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return Decimal{}, false
	}
	if neg {
		b.Neg(b)
	}
	return withBig(d, b), true
}
