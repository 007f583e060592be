package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Header is the first line every export starts with.
const Header = "id,email,country,amount,currency"

// ParseCSV reads an export into rows.
func ParseCSV(_ context.Context, text string) ([]Row, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = 5
	r.TrimLeadingSpace = false
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	if got := strings.Join(head, ","); got != Header {
		return nil, fmt.Errorf("header is %q, want %q", got, Header)
	}
	var rows []Row
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := r.FieldPos(0)
		rows = append(rows, Row{Line: line, ID: rec[0], Email: rec[1], Country: rec[2], Amount: rec[3], Currency: rec[4]})
	}
}

// NewDraft starts the normalisation of a row.
func NewDraft(r Row) Draft { return Draft{Row: r} }

// problem is something wrong with a row; fix, when the problem has one,
// repairs it and says what it did.
type problem struct {
	what string
	fix  func(*Row) string
}

// problems lists what is wrong with r, the problems a pass fixes first
// first.
func problems(r Row) []problem {
	var ps []problem
	fields := []*string{&r.ID, &r.Email, &r.Country, &r.Amount, &r.Currency}
	for _, f := range fields {
		if strings.TrimSpace(*f) != *f {
			ps = append(ps, problem{"stray spaces", func(r *Row) string {
				for _, f := range []*string{&r.ID, &r.Email, &r.Country, &r.Amount, &r.Currency} {
					*f = strings.TrimSpace(*f)
				}
				return "trimmed spaces"
			}})
			break
		}
	}
	if strings.ToLower(r.Email) != r.Email {
		ps = append(ps, problem{"upper-case e-mail", func(r *Row) string {
			r.Email = strings.ToLower(r.Email)
			return "lower-cased the e-mail"
		}})
	}
	if !strings.Contains(r.Email, "@") {
		ps = append(ps, problem{fmt.Sprintf("e-mail %q has no @", r.Email), nil})
	}
	if c := strings.TrimSpace(r.Country); !countryOf(c).Known {
		if code, ok := codeOf(strings.ToLower(c)); ok {
			ps = append(ps, problem{"country name instead of code", func(r *Row) string {
				old := r.Country
				r.Country = code
				return fmt.Sprintf("country %q -> %s", old, code)
			}})
		} else {
			ps = append(ps, problem{fmt.Sprintf("unknown country %q", c), nil})
		}
	}
	amount := strings.TrimSpace(r.Amount)
	sym, symCurrency, hasSymbol := currencySymbol(amount)
	if hasSymbol {
		ps = append(ps, problem{"currency symbol in the amount", func(r *Row) string {
			r.Amount = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.Amount), sym))
			if r.Currency == "" {
				r.Currency = symCurrency
			}
			return fmt.Sprintf("moved %s out of the amount", sym)
		}})
		amount = strings.TrimSpace(strings.TrimPrefix(amount, sym))
	}
	if strings.Contains(amount, ",") {
		ps = append(ps, problem{"decimal comma", func(r *Row) string {
			a := r.Amount
			if strings.Contains(a, ".") { // 1.234,50
				a = strings.ReplaceAll(a, ".", "")
			}
			r.Amount = strings.ReplaceAll(a, ",", ".")
			return "decimal comma -> point"
		}})
		amount = strings.ReplaceAll(strings.ReplaceAll(amount, ".", ""), ",", ".")
	}
	if _, err := cents(amount); err != nil {
		ps = append(ps, problem{fmt.Sprintf("amount %q is not a number", amount), nil})
	}
	switch cur := strings.TrimSpace(r.Currency); {
	case cur == "" && !hasSymbol:
		ps = append(ps, problem{"no currency", nil})
	case strings.ToUpper(cur) != cur:
		ps = append(ps, problem{"lower-case currency", func(r *Row) string {
			r.Currency = strings.ToUpper(r.Currency)
			return "upper-cased the currency"
		}})
	}
	return ps
}

// currencySymbol reports the symbol an amount starts with.
func currencySymbol(amount string) (symbol, currency string, ok bool) {
	for _, s := range [...]struct{ sym, cur string }{{"€", "EUR"}, {"$", "USD"}, {"£", "GBP"}, {"¥", "JPY"}} {
		if strings.HasPrefix(amount, s.sym) {
			return s.sym, s.cur, true
		}
	}
	return "", "", false
}

// cents parses a decimal amount with at most two decimals.
func cents(amount string) (int64, error) {
	whole, frac, _ := strings.Cut(amount, ".")
	if len(frac) > 2 {
		return 0, fmt.Errorf("amount %q has more than two decimals", amount)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 {
		return 0, fmt.Errorf("amount %q is not a positive decimal", amount)
	}
	var f int64
	if frac != "" {
		f, err = strconv.ParseInt(frac, 10, 64)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("amount %q is not a positive decimal", amount)
		}
		if len(frac) == 1 {
			f *= 10
		}
	}
	return w*100 + f, nil
}

// NormalisePass fixes the first problem of the row that has a fix. A row
// whose problems have none comes back unchanged.
func NormalisePass(d Draft) Draft {
	for _, p := range problems(d.Row) {
		if p.fix != nil {
			d.Fixes = append(slices.Clip(d.Fixes), p.fix(&d.Row))
			return d
		}
	}
	return d
}

// IsClean reports whether the row has no problem left.
func IsClean(d Draft) bool { return len(problems(d.Row)) == 0 }

// Quarantine sets aside a row the passes could not clean.
func Quarantine(d Draft) Draft {
	var what []string
	for _, p := range problems(d.Row) {
		what = append(what, p.what)
	}
	d.Quarantined = true
	d.Reason = strings.Join(what, "; ")
	return d
}

// RecordFields turns a normalised draft into a record without its country
// details.
func RecordFields(d Draft) Record {
	r := Record{Line: d.Row.Line, ID: d.Row.ID, Email: d.Row.Email, Country: d.Row.Country, Currency: d.Row.Currency, Fixes: d.Fixes}
	switch {
	case d.Quarantined:
		r.Status, r.Reason = StatusQuarantined, d.Reason
	case len(d.Fixes) > 0:
		r.Status = StatusFixed
	default:
		r.Status = StatusClean
	}
	if !d.Quarantined {
		r.AmountCents, _ = cents(d.Row.Amount) // clean, so it parses
	}
	return r
}

// CountryCode is the code the lookup is asked for: none for a quarantined
// row.
func CountryCode(d Draft) string {
	if d.Quarantined {
		return ""
	}
	return d.Row.Country
}

// LookupCountry asks the reference service about a country code. Its output
// depends on the code alone, so it may be cached.
func LookupCountry(ctx context.Context, code string) (Country, error) {
	if code == "" {
		return Country{}, nil
	}
	s, err := ServiceFrom(ctx)
	if err != nil {
		return Country{}, err
	}
	return s.Lookup(ctx, code)
}

// AttachCountry completes a record with its country.
func AttachCountry(r Record, c Country) Record {
	if c.Known {
		r.CountryName, r.Region = c.Name, c.Region
	}
	return r
}

// Summarise counts the records by status and totals them by region and
// currency.
func Summarise(records []Record) Report {
	rep := Report{Records: records}
	totals := map[[2]string]*Total{}
	for _, r := range records {
		switch r.Status {
		case StatusClean:
			rep.Clean++
		case StatusFixed:
			rep.Fixed++
		case StatusQuarantined:
			rep.Quarantined++
			continue
		}
		k := [2]string{r.Region, r.Currency}
		t := totals[k]
		if t == nil {
			t = &Total{Region: r.Region, Currency: r.Currency}
			totals[k] = t
		}
		t.Cents += r.AmountCents
		t.Orders++
	}
	for _, t := range totals {
		rep.Totals = append(rep.Totals, *t)
	}
	slices.SortFunc(rep.Totals, func(a, b Total) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Currency, b.Currency))
	})
	return rep
}
