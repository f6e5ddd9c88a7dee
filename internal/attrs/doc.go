// Package attrs describes what a tracked object looked like, for the
// suspect search: per person track a few best crops, the named colours
// of the upper and lower body, the objects carried, the height where the
// camera is calibrated and the direction of travel; per vehicle track its
// type and colour; and, given an Embedder, an appearance vector averaged
// over the best crops.
//
// A Collector follows one camera's tracks frame by frame (the analysis
// chain calls Observe with each frame's pixels and tracks) and, when a
// track ends, returns its search.Appearance. It samples rather than
// reading every frame: a track's crop is looked at every Config.Every
// frames, so the cost per frame is bounded by the number of tracks. It
// starts no goroutine and reads no clock: the same frames give the same
// attributes.
//
// Colours are named in CIELAB after grey-world illumination compensation
// of each sampled frame (von Kries gains, clamped), pixel by pixel into
// the eleven basic colour terms; a region gets every colour covering at
// least MinShare of its pixels over the track (most present first), so
// mixed clothing gives several colours. Gender and age are not
// estimated: they need a classifier model that is not available here,
// and guessing them from colours would be fabrication.
package attrs
