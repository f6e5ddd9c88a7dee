package search

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Merge joins lists without repeats and keeps the explicit query's
// scalars where set.
func TestQueryMerge(t *testing.T) {
	q := Query{Upper: []string{"red"}, Heading: "north", MinHeightM: 1.7}
	p := Query{Upper: []string{"red", "blue"}, Lower: []string{"black"}, Heading: "south", MaxHeightM: 1.9, MinHeightM: 1.5}
	m := q.Merge(p)
	require.Equal(t, []string{"blue", "red"}, m.Upper)
	require.Equal(t, []string{"black"}, m.Lower)
	require.Equal(t, "north", m.Heading)
	require.Equal(t, 1.7, m.MinHeightM)
	require.Equal(t, 1.9, m.MaxHeightM)
}
