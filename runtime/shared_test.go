package runtime

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestSharedBudgetValidate(t *testing.T) {
	ok := SharedBudget{Name: "tenant-42", Window: 24 * time.Hour, CostLimit: 5}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid budget refused: %v", err)
	}
	for _, tc := range []struct {
		b    SharedBudget
		want string
	}{
		{SharedBudget{CostLimit: 1}, "Name is empty"},
		{SharedBudget{Name: "a", Window: -time.Second, CostLimit: 1}, "Window is -1s"},
		// Stores name a window by the Unix second it starts at.
		{SharedBudget{Name: "a", Window: 500 * time.Millisecond, CostLimit: 1}, "Window is 500ms; want 0 (no window) or at least 1s"},
		{SharedBudget{Name: "a", CostLimit: -1}, "limits must be finite and not negative"},
		{SharedBudget{Name: "a", CostLimit: math.NaN()}, "limits must be finite and not negative (CostLimit NaN"},
		{SharedBudget{Name: "a", CostLimit: math.Inf(1)}, "limits must be finite and not negative (CostLimit +Inf"},
		{SharedBudget{Name: "a"}, "neither CostLimit nor TokenLimit"},
		{SharedBudget{Name: "a", TokenLimit: 3, Hold: Usage{PromptTokens: -1}}, "Hold must be finite and not negative"},
		{SharedBudget{Name: "a", CostLimit: 3, Hold: Usage{Cost: math.NaN()}}, "Hold must be finite and not negative (Cost NaN"},
		{SharedBudget{Name: "a", CostLimit: 3, Hold: Usage{Cost: math.Inf(1)}}, "Hold must be finite and not negative (Cost +Inf"},
	} {
		err := tc.b.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v; want an error containing %q", tc.b, err, tc.want)
		}
	}
}

func TestSharedBudgetWindowStart(t *testing.T) {
	b := SharedBudget{Name: "a", Window: time.Hour, CostLimit: 1}
	at := time.Date(2026, 12, 3, 15, 42, 7, 9, time.UTC)
	if got, want := b.WindowStart(at), time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("WindowStart = %v; want %v", got, want)
	}
	if got := b.WindowStart(at.Add(time.Hour)); !got.Equal(time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("next window starts at %v", got)
	}
	if got := (SharedBudget{Name: "a", CostLimit: 1}).WindowStart(at); !got.IsZero() {
		t.Errorf("no window: WindowStart = %v; want the zero time", got)
	}
}
