package main

// Row is one line of an orders export, as text.
type Row struct {
	Line     int
	ID       string
	Email    string
	Country  string
	Amount   string
	Currency string
}

// Draft is a row on its way to being clean.
type Draft struct {
	Row Row
	// Fixes lists what the normalisation passes changed, in order.
	Fixes []string
	// Quarantined rows could not be cleaned; Reason says why.
	Quarantined bool
	Reason      string
}

// Country is what the reference service knows about a country code.
type Country struct {
	Code   string
	Name   string
	Region string
	Known  bool
}

// Record statuses.
const (
	StatusClean       = "clean"
	StatusFixed       = "fixed"
	StatusQuarantined = "quarantined"
)

// Record is a processed row.
type Record struct {
	Line        int
	ID          string
	Email       string
	Country     string
	CountryName string
	Region      string
	AmountCents int64
	Currency    string
	Status      string
	Fixes       []string
	Reason      string
}

// Total is the amount of one region in one currency.
type Total struct {
	Region   string
	Currency string
	Cents    int64
	Orders   int
}

// Report is a processed export.
type Report struct {
	Records                   []Record
	Clean, Fixed, Quarantined int
	// Totals are sorted by region, then currency; quarantined records are
	// left out.
	Totals []Total
}
