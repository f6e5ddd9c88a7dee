// Package search finds tracks by what they looked like: the suspect
// search. It holds the vocabulary of person and vehicle attributes (named
// colours, carried objects, compass headings), the Appearance recorded
// with a track summary, an in-memory Index over the stored tracks, and a
// parser that turns phrases such as "red top black trousers backpack
// heading north" into the same Query the console's form builds.
//
// # Query order
//
// A query first filters by class, camera, time, zone, heading and height
// (hard conditions), then scores the asked colours and carried objects
// (a record must reach Query.MinMatch of them, all by default) and only
// then ranks the survivors by appearance similarity to Query.Like.
//
// # Why quantised brute force and not HNSW or IVF
//
// Almost every control-room query carries a time range and a camera set
// and most carry colours, so the set left to rank is a small slice of
// the stored tracks. Graph (HNSW) and inverted-file (IVF) indexes are
// built for unfiltered nearest-neighbour search; with a selective filter
// they either visit most of the graph or lose recall, and both need
// training or rebuilding as tracks arrive all day. Brute force over the
// filtered set is exact, deterministic, costs nothing to insert into and
// has no parameters to tune. To keep it fast at 10⁶ tracks the Index is
// columnar (attribute bit masks, times and camera ids in flat slices, one
// pass of integer compares) and keeps each L2-normalised embedding twice:
// as int8 (cosine to within 1 %) and as a 1-bit sign code of the
// centred vector. When more than ExactLimit records pass the filter, the
// Hamming distance of the sign codes picks a shortlist and only the
// shortlist is re-ranked with the int8 vectors (binary quantisation with
// rescoring). The memory cost is dim+dim/8 bytes per track for the
// vectors (576 MiB at 10⁶ tracks of 512 dimensions) plus ~50 bytes of
// attributes; `vigil bench search` measures build time, memory and query
// latency.
//
// The Index is the query structure; the stores (SQLite, PostgreSQL) are
// the record of truth, from which the Index is built at start-up and
// kept current as summaries are stored.
package search
