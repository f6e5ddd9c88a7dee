package baseline

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{}.Defaults()
	require.Equal(t, Config{
		CellMetres: 2, CellPixels: 32, Warmup: 30 * time.Minute, HalfLife: 7 * 24 * time.Hour,
		BudgetPerHour: 2, MinThreshold: 3, Severity: event.Medium, SuppressFor: 7 * 24 * time.Hour,
	}, c)
	require.NoError(t, c.Validate())
	require.Equal(t, c, c.Defaults())
}

func TestConfigValidate(t *testing.T) {
	bad := map[string]Config{
		"CellMetres":     {CellMetres: -1},
		"CellPixels":     {CellPixels: -4},
		"Warmup":         {Warmup: -time.Second},
		"HalfLife":       {HalfLife: -time.Hour},
		"BudgetPerHour":  {BudgetPerHour: -2},
		"MinThreshold":   {MinThreshold: -1},
		"severity":       {Severity: "urgent"},
		"unknown kind":   {Kinds: []string{"speed", "colour"}},
		"twice":          {Kinds: []string{"speed", "speed"}},
		"Kinds is empty": {Kinds: []string{}},
	}
	for want, c := range bad {
		err := c.Defaults().Validate()
		require.ErrorContains(t, err, want)
		_, err = New(c, testScene())
		require.Error(t, err)
	}
	err := Config{CellMetres: -1, Severity: "urgent"}.Defaults().Validate()
	require.ErrorContains(t, err, "CellMetres")
	require.ErrorContains(t, err, "severity", "every problem at once")
}

// Only enabled kinds alert and share the budget.
func TestKindsSubset(t *testing.T) {
	m, err := New(Config{Kinds: []string{KindSpeed, KindClass}}, testScene())
	require.NoError(t, err)
	require.Equal(t, map[string]float64{KindSpeed: 4, KindClass: 4}, m.State().Thresholds)
	require.InDelta(t, 1, m.budgetPerKind(), 1e-12)
}
