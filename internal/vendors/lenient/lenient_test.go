package lenient

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/decimal"
)

func TestStrAndInt(t *testing.T) {
	t.Parallel()
	var s struct {
		A, B, C Str
		N, M    Int
	}
	require.NoError(t, json.Unmarshal([]byte(`{"A":"1.50","B":1.50,"C":null,"N":"17","M":18}`), &s))
	require.Equal(t, Str("1.50"), s.A)
	require.Equal(t, Str("1.50"), s.B)
	require.Equal(t, Str(""), s.C)
	require.Equal(t, Int(17), s.N)
	require.Equal(t, Int(18), s.M)
	require.Error(t, json.Unmarshal([]byte(`{"A":true}`), &s))
	require.Error(t, json.Unmarshal([]byte(`{"N":1.5}`), &s))
	b, err := json.Marshal(struct {
		A Str
		N Int
	}{"1.50", 7})
	require.NoError(t, err)
	require.JSONEq(t, `{"A":"1.50","N":7}`, string(b))
}

func TestDecReadsWhatStrThenParseRead(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`"1.50"`, `1.50`, `"0.00000001"`, `-3e2`, `"-0"`, `"123456789012345678901234.5678"`} {
		var d Dec
		var s Str
		require.NoError(t, json.Unmarshal([]byte(in), &d), in)
		require.NoError(t, json.Unmarshal([]byte(in), &s), in)
		require.True(t, d.Set, in)
		want, err := decimal.Parse(string(s))
		require.NoError(t, err, in)
		require.True(t, want.Identical(d.Decimal), in)
	}
	var d Dec
	require.NoError(t, json.Unmarshal([]byte(`""`), &d))
	require.False(t, d.Set)
	d = Dec{Set: true}
	require.NoError(t, json.Unmarshal([]byte(`null`), &d))
	require.True(t, d.Set, "null leaves the value, as it does Str's")
	require.ErrorIs(t, json.Unmarshal([]byte(`"\u0031"`), &d), ErrEscaped)
	for _, in := range []string{`true`, `{}`, `[]`, `"abc"`, `"1 "`, `"+1"`} {
		require.Error(t, json.Unmarshal([]byte(in), &d), in)
	}
}

func TestUnusedAcceptsWhatStrAccepts(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`"x"`, `"1.5%"`, `12`, `-1`, `null`, `true`, `{}`, `[1]`, `false`} {
		var s Str
		var u Unused
		strErr := json.Unmarshal([]byte(in), &s)
		require.Equal(t, strErr == nil, json.Unmarshal([]byte(in), &u) == nil, in)
	}
}
