package decimal

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// encodeBoth encodes v with NumericCodec and with Register's codec.
func encodeBoth(t *testing.T, oid uint32, v any) (want, got []byte) {
	t.Helper()
	plain, fast := pgtype.NewMap(), pgtype.NewMap()
	Register(fast)
	want, err := plain.Encode(oid, pgtype.BinaryFormatCode, v, nil)
	require.NoError(t, err)
	got, err = fast.Encode(oid, pgtype.BinaryFormatCode, v, nil)
	require.NoError(t, err)
	return want, got
}

func TestRegisterWritesNumericCodecBytes(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"0", "0.00", "-0.0", "1", "-1", "10000", "12345678", "1.5", "1.50000000", "0.00000001", "89287.17000000",
		"-25.06", "136.421", "0.99173000", "9223372036854775807", "-9223372036854775808", "0.9223372036854775807",
		"922337203685477580.7", "1e3", "1.5E-7", "123456789012345678901234.5678", "-0.000000000000000000000001",
		"0." + "0000000000000000000000000000000000000000000000000000000000000001",
	} {
		d := MustParse(s)
		want, got := encodeBoth(t, pgtype.NumericOID, d)
		require.Equal(t, want, got, s)
		want, got = encodeBoth(t, pgtype.NumericOID, Null{Decimal: d, Valid: true})
		require.Equal(t, want, got, s)
		want, got = encodeBoth(t, pgtype.NumericOID, &d)
		require.Equal(t, want, got, s)
		want, got = encodeBoth(t, pgtype.NumericOID, &Null{Decimal: d, Valid: true})
		require.Equal(t, want, got, s)
	}
	want, got := encodeBoth(t, pgtype.NumericOID, &Null{})
	require.Nil(t, want)
	require.Nil(t, got)
	want, got = encodeBoth(t, pgtype.NumericOID, Null{})
	require.Nil(t, want)
	require.Nil(t, got)
	arr := []Decimal{MustParse("1.5"), MustParse("-0.00000001"), MustParse("123456789012345678901234.5678")}
	want, got = encodeBoth(t, pgtype.NumericArrayOID, arr)
	require.Equal(t, want, got)
	for _, v := range []any{
		[]Null{{Decimal: MustParse("2.25"), Valid: true}, {}},
		[]Null{{Decimal: MustParse("2.25"), Valid: true}, {Decimal: MustParse("-123456789012345678901234.5"), Valid: true}},
		[]Null{{}}, []Null{}, []Null(nil), []Decimal{}, []Decimal(nil),
	} {
		want, got = encodeBoth(t, pgtype.NumericArrayOID, v)
		require.Equal(t, want, got, "%v", v)
	}
}

func TestRegisterPlansItsOwnEncoding(t *testing.T) {
	t.Parallel()
	m := pgtype.NewMap()
	Register(m)
	require.IsType(t, encodePlan{}, m.PlanEncode(pgtype.NumericOID, pgtype.BinaryFormatCode, Decimal{}))
	require.IsType(t, encodePlan{}, m.PlanEncode(pgtype.NumericOID, pgtype.BinaryFormatCode, Null{}))
	require.IsType(t, arrayPlan{}, m.PlanEncode(pgtype.NumericArrayOID, pgtype.BinaryFormatCode, []Decimal{}))
	require.IsType(t, arrayPlan{}, m.PlanEncode(pgtype.NumericArrayOID, pgtype.BinaryFormatCode, []Null{}))
}

func FuzzRegisterWritesNumericCodecBytes(f *testing.F) {
	for _, s := range []string{"0", "1.50000000", "-0.00000001", "9223372036854775807", "12345.6789e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		want, got := encodeBoth(t, pgtype.NumericOID, d)
		require.Equal(t, want, got, s)
	})
}
