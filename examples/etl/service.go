package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// CountryService simulates the reference service that knows the countries:
// each call takes a while, and the service refuses calls beyond its
// connection limit. It is safe for concurrent use.
type CountryService struct {
	latency  time.Duration
	maxConns int

	inflight, peak, calls, refused atomic.Int64
}

// NewCountryService returns a service whose calls take latency and that
// accepts maxConns calls at once.
func NewCountryService(latency time.Duration, maxConns int) (*CountryService, error) {
	if latency < 0 {
		return nil, fmt.Errorf("etl: NewCountryService: latency is %v, want >= 0", latency)
	}
	if maxConns < 1 {
		return nil, fmt.Errorf("etl: NewCountryService: maxConns is %d, want >= 1", maxConns)
	}
	return &CountryService{latency: latency, maxConns: maxConns}, nil
}

// TooManyConnectionsError is a call the service refused because maxConns
// calls were in flight.
type TooManyConnectionsError struct{ Limit int }

func (e *TooManyConnectionsError) Error() string {
	return fmt.Sprintf("country service: more than %d connections", e.Limit)
}

// ServiceCounters count a service's calls.
type ServiceCounters struct {
	// Calls counts the calls that reached the service, refused ones included.
	Calls int64
	// Refused counts calls over the connection limit.
	Refused int64
	// Peak is the most calls that were in flight at once.
	Peak int64
}

// Counters returns the service's counters.
func (s *CountryService) Counters() ServiceCounters {
	return ServiceCounters{Calls: s.calls.Load(), Refused: s.refused.Load(), Peak: s.peak.Load()}
}

// Lookup returns the country of an ISO code; an unknown code is not an
// error, it comes back with Known false.
func (s *CountryService) Lookup(ctx context.Context, code string) (Country, error) {
	s.calls.Add(1)
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	if n > int64(s.maxConns) {
		s.refused.Add(1)
		return Country{}, &TooManyConnectionsError{Limit: s.maxConns}
	}
	if s.latency > 0 {
		t := time.NewTimer(s.latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return Country{}, ctx.Err()
		}
	}
	return countryOf(code), nil
}

// countryOf is the service's table.
func countryOf(code string) Country {
	var name, region string
	switch code {
	case "DE":
		name, region = "Germany", "Europe"
	case "ES":
		name, region = "Spain", "Europe"
	case "FR":
		name, region = "France", "Europe"
	case "GB":
		name, region = "United Kingdom", "Europe"
	case "BR":
		name, region = "Brazil", "Americas"
	case "US":
		name, region = "United States", "Americas"
	case "AU":
		name, region = "Australia", "Asia-Pacific"
	case "IN":
		name, region = "India", "Asia-Pacific"
	case "JP":
		name, region = "Japan", "Asia-Pacific"
	default:
		return Country{Code: code}
	}
	return Country{Code: code, Name: name, Region: region, Known: true}
}

// codeOf maps the names people type to ISO codes; ok is false for a name
// it does not know.
func codeOf(name string) (code string, ok bool) {
	switch name {
	case "germany", "deutschland":
		return "DE", true
	case "spain", "españa", "espana":
		return "ES", true
	case "france":
		return "FR", true
	case "uk", "united kingdom", "great britain", "england":
		return "GB", true
	case "brazil", "brasil":
		return "BR", true
	case "usa", "us", "united states", "u.s.":
		return "US", true
	case "australia":
		return "AU", true
	case "india":
		return "IN", true
	case "japan":
		return "JP", true
	}
	if len(name) == 2 && countryOf(toUpperASCII(name)).Known {
		return toUpperASCII(name), true
	}
	return "", false
}

func toUpperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

type serviceKey struct{}

// WithService returns a context that carries the service the lookup step
// calls.
func WithService(ctx context.Context, s *CountryService) context.Context {
	return context.WithValue(ctx, serviceKey{}, s)
}

// ErrNoService is the error of a lookup run without a *CountryService in
// its context.
var ErrNoService = errors.New("etl: no country service in the context; wrap it with WithService")

// ServiceFrom returns the service ctx carries, or ErrNoService.
func ServiceFrom(ctx context.Context) (*CountryService, error) {
	if s, ok := ctx.Value(serviceKey{}).(*CountryService); ok && s != nil {
		return s, nil
	}
	return nil, ErrNoService
}
