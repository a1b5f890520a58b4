package lenient

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
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
