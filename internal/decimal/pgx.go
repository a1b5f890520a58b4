package decimal

import (
	"fmt"
	"math/big"

	"github.com/jackc/pgx/v5/pgtype"
)

// NumericValue implements pgtype.NumericValuer, so pgx encodes a Decimal as
// numeric in parameters, arrays and binary COPY with its scale intact.
func (d Decimal) NumericValue() (pgtype.Numeric, error) {
	return pgtype.Numeric{Int: d.Coefficient(), Exp: -d.scale, Valid: true}, nil
}

// ScanNumeric implements pgtype.NumericScanner.
func (d *Decimal) ScanNumeric(v pgtype.Numeric) error {
	if !v.Valid {
		return fmt.Errorf("scan decimal: %w: NULL", ErrSyntax)
	}
	if v.NaN || v.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("scan decimal: %w: not a finite number", ErrSyntax)
	}
	coef := v.Int
	if coef == nil {
		coef = new(big.Int)
	}
	if v.Exp > 0 {
		coef = new(big.Int).Mul(coef, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(v.Exp)), nil))
		*d = NewFromBig(coef, 0)
		return nil
	}
	if -v.Exp > maxScale {
		return fmt.Errorf("scan decimal: %w: scale %d", ErrSyntax, -v.Exp)
	}
	*d = NewFromBig(coef, -v.Exp)
	return nil
}

// NumericValue implements pgtype.NumericValuer; an absent value encodes as NULL.
func (n Null) NumericValue() (pgtype.Numeric, error) {
	if !n.Valid {
		return pgtype.Numeric{}, nil
	}
	return n.Decimal.NumericValue()
}

// ScanNumeric implements pgtype.NumericScanner; NULL scans as absent.
func (n *Null) ScanNumeric(v pgtype.Numeric) error {
	if !v.Valid {
		*n = Null{}
		return nil
	}
	if err := n.Decimal.ScanNumeric(v); err != nil {
		return err
	}
	n.Valid = true
	return nil
}
